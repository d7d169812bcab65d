"""Wiring of the Teams front end into `accessbot serve`: ``POST /api/messages``.

`install` is called by the CLI's composition (`bot.cli._front_ends`). With ``MICROSOFT_APP_ID``
set every activity must carry a valid Bot Framework token (401 otherwise). Without an app id
the endpoint would be unauthenticated, so it is mounted only under ``serve --sandbox``
(Bot Framework Emulator); a production bot without a Teams app id has no Teams endpoint.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from adapters.store.chat_state import ChatState
from bot.runtime import Runtime
from bot.teams.auth import MsalCredentialsFactory, build_authentication
from bot.teams.handlers import AccessBot
from bot.teams.notifier import TeamsNotifier
from bot.teams.outbound import TeamsMessenger
from bot.teams.references import TeamsReferences
from bot.teams.summary import TeamsSummaryPoster

log = logging.getLogger("accessbot.teams")

ROUTE = "/api/messages"


async def _on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    log.error("Teams turn failed: %s: %s", type(error).__name__, error, exc_info=error)
    if turn_context.activity.type == "message":
        try:
            await turn_context.send_activity("Sorry, something went wrong on my side; the operators can see why.")
        except Exception:
            log.warning("could not tell the user about the failure")


def messages_handler(adapter: CloudAdapter, bot: AccessBot, credentials: object = None) -> Any:
    """The aiohttp handler: authenticate, run the turn, answer 401 / 201 / the invoke response.

    The invoke response body is written here, once (botbuilder's own path serializes it twice).
    """

    async def handle(request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected Content-Type: application/json"}, status=415)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "expected an activity object"}, status=400)
        activity = Activity().deserialize(body)
        if not activity.type:
            return web.json_response({"error": "an activity needs a type"}, status=400)
        auth_header = request.headers.get("Authorization", "")
        if isinstance(credentials, MsalCredentialsFactory):
            await credentials.prefetch()
        try:
            response = await adapter.process_activity(auth_header, activity, bot.on_turn)
        except PermissionError:
            return web.json_response({"error": "unauthorized"}, status=401)
        if response is not None:
            return web.json_response(response.body, status=response.status)
        return web.Response(status=201)

    return handle


def install(app: web.Application, runtime: Runtime) -> None:
    """Mount ``POST /api/messages`` and subscribe the Teams notifier and summary poster."""
    settings = runtime.settings
    app_id = settings.microsoft_app_id or ""
    if not app_id and not runtime.sandbox:
        log.info("Teams: MICROSOFT_APP_ID is not set, so there is no %s endpoint", ROUTE)
        return
    authentication, credentials = build_authentication(settings)
    adapter = CloudAdapter(authentication)
    adapter.on_turn_error = _on_turn_error
    state = ChatState(runtime.engine)
    references = TeamsReferences(state, settings.microsoft_app_tenant_id)
    bot = AccessBot(runtime.service, runtime.config, references, sandbox=runtime.sandbox)
    messenger = TeamsMessenger(adapter, app_id, references)
    runtime.notifier.subscribe(TeamsNotifier(messenger, state, runtime.config, runtime.clock))
    runtime.summary_posters["teams"] = TeamsSummaryPoster(messenger)
    app.router.add_post(ROUTE, messages_handler(adapter, bot, credentials))
    if not app_id:
        log.warning("Teams: %s is UNAUTHENTICATED (no MICROSOFT_APP_ID): sandbox / Bot Framework Emulator only", ROUTE)
