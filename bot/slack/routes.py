"""Wiring of the Slack front end into `accessbot serve` (called from the composition root).

HTTP mode (SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET): a slack-bolt AsyncApp answers
``POST /slack/events`` (slash commands, buttons, modals) with signature verification on.
Socket Mode (SLACK_APP_TOKEN): the same listeners over Slack's websocket, no public URL.
Web API calls go to SLACK_API_URL and honour Slack's 429 ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.store.chat_state import ChatState
from bot.runtime import Runtime
from bot.slack.handlers import Handlers
from bot.slack.identity import SlackIdentity
from bot.slack.notifier import DirectMessages, SlackContext, SlackNotifier
from bot.slack.summary import SlackSummaryPoster

log = logging.getLogger("accessbot.slack")

EVENTS_PATH = "/slack/events"
RATE_LIMIT_RETRIES = 3


def build_client(token: str | None, base_url: str) -> AsyncWebClient:
    """A Web API client for SLACK_API_URL that waits out 429s (Retry-After) and retries
    connection errors and 5xx a few times."""
    return AsyncWebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class BotAuthorization:
    """bolt's `authorize`: one ``auth.test`` per process, shared by all requests.

    (bolt's single-team default calls auth.test on its first dispatch; a burst of first
    requests would each call it.)
    """

    def __init__(self, client: AsyncWebClient, token: str) -> None:
        self._client = client
        self._token = token
        self._result: AuthorizeResult | None = None
        self._lock = asyncio.Lock()

    async def authorize(self) -> AuthorizeResult:
        if self._result is not None:
            return self._result
        async with self._lock:
            if self._result is None:
                response = await self._client.auth_test()
                self._result = AuthorizeResult.from_auth_test_response(
                    auth_test_response=response, bot_token=self._token
                )
            return self._result


@dataclass
class SlackFrontEnd:
    """The bolt app, its listeners and the notifier, built from the runtime."""

    bolt: AsyncApp
    client: AsyncWebClient
    authorization: BotAuthorization
    notifier: SlackNotifier
    summary: SlackSummaryPoster
    app_token: str | None

    @classmethod
    def build(cls, runtime: Runtime) -> SlackFrontEnd:
        settings = runtime.settings
        assert settings.slack_bot_token is not None
        token = settings.slack_bot_token.get_secret_value()
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
        app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        client = build_client(token, settings.slack_api_url)
        authorization = BotAuthorization(client, token)

        async def authorize(enterprise_id: str | None = None, team_id: str | None = None) -> AuthorizeResult:
            # a plain function: bolt passes arguments by parameter name and trips over `self`
            return await authorization.authorize()

        _quiet_client_warning()
        bolt = AsyncApp(
            name="accessbot",
            # Without a token: bolt takes the token from `authorize` and the rest (base URL,
            # retry handlers) from this client.
            client=build_client(None, settings.slack_api_url),
            authorize=authorize,
            signing_secret=secret or "",
            # Socket Mode frames are not signed (bolt skips the check for them anyway).
            request_verification_enabled=app_token is None,
            # The ack function runs inline and the HTTP answer goes out right after it;
            # lazy listeners do the slow work as tasks (no polling for the ack).
            process_before_response=True,
            # bolt keeps its own `slack_bolt` logger: bot.logs quiets it even at DEBUG (it logs bodies).
        )
        chat_state = ChatState(runtime.engine)
        identity = SlackIdentity(client, runtime.service, chat_state, runtime.clock)
        ctx = SlackContext(
            client=client,
            store=runtime.store,
            catalog=runtime.config.catalog,
            chat_state=chat_state,
            identity=identity,
            clock=runtime.clock,
            tz=runtime.config.timezone,
        )
        dms = DirectMessages(client)
        Handlers(runtime.service, ctx, dms).register(bolt)
        return cls(bolt, client, authorization, SlackNotifier(ctx, dms), SlackSummaryPoster(client), app_token)

    async def handle(self, request: web.Request) -> web.Response:
        """POST /slack/events: bolt verifies the signature and the timestamp (401 otherwise)."""
        bolt_response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def lifespan(self, app: web.Application) -> AsyncIterator[None]:
        """For the server's lifetime: one HTTP session for the Web API, the token checked once in
        the background (Slack being slow or down must not hold up the server; a bad token is
        logged and retried on the first request)."""
        # One HTTP session (connection pool) for every Web API call, instead of one per call.
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client.timeout))
        self.client.session = session
        task = asyncio.create_task(self._check_token(), name="slack-auth-test")
        yield
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.client.session = None
        await session.close()

    async def _check_token(self) -> None:
        try:
            result = await self.authorization.authorize()
            log.info("slack: connected as %s to team %s", result.bot_user_id or "?", result.team_id or "?")
        except Exception as error:
            log.warning("slack: auth.test failed at start-up (%s); retried on the first request", _why(error))

    async def socket_mode(self, app: web.Application) -> AsyncIterator[None]:
        """Socket Mode: hold Slack's websocket for the lifetime of the server.

        Connecting runs in the background (the SDK retries until it gets through), so a Slack
        outage at start-up does not keep the rest of the bot from serving."""
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        assert self.app_token is not None
        handler = AsyncSocketModeHandler(self.bolt, self.app_token, web_client=self.client)
        task = asyncio.create_task(handler.connect_async(), name="slack-socket-mode")  # type: ignore[no-untyped-call]
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await handler.close_async()  # type: ignore[no-untyped-call]


class _DropClientWarning(logging.Filter):
    """bolt warns that SLACK_BOT_TOKEN is unused when it gets a client; here that is intended
    (the token reaches bolt through `authorize`), and the line would only puzzle operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _quiet_client_warning() -> None:
    bolt_log = logging.getLogger("slack_bolt.AsyncApp")
    if not any(isinstance(f, _DropClientWarning) for f in bolt_log.filters):
        bolt_log.addFilter(_DropClientWarning())


def _why(error: Exception) -> str:
    response: Any = getattr(error, "response", None)
    if response is not None and hasattr(response, "get"):
        return str(response.get("error") or type(error).__name__)
    return type(error).__name__


def install(app: web.Application, runtime: Runtime) -> None:
    """Mount Slack when it is configured: HTTP at /slack/events, or Socket Mode with an app token."""
    settings = runtime.settings
    if settings.slack_bot_token is None:
        return
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        log.warning("slack: SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN; Slack is off")
        return
    front = SlackFrontEnd.build(runtime)
    runtime.notifier.subscribe(front.notifier)
    runtime.summary_posters["slack"] = front.summary
    app.cleanup_ctx.append(front.lifespan)
    if front.app_token is not None:
        app.cleanup_ctx.append(front.socket_mode)
        log.info("slack: Socket Mode (SLACK_APP_TOKEN set); %s is not served", EVENTS_PATH)
    else:
        app.router.add_post(EVENTS_PATH, front.handle)
