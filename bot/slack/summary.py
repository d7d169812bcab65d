"""The daily access summary in Slack (`workflows.ports.SummaryPoster`, surface "slack").

The text goes out first (chat.postMessage), then the chart with Slack's current upload flow
(files.getUploadURLExternal -> POST the bytes to the returned URL ->
files.completeUploadExternal, shared into the summary's thread). A failing upload is logged
and leaves the text in place: the summary itself must always arrive.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import (
    HEADER_TEXT_MAX,
    MAX_BLOCKS,
    SECTION_TEXT_MAX,
    Block,
    Message,
    context,
    escape,
    fit,
    plain,
    section,
    truncate,
)
from workflows.ports import SummarySection

log = logging.getLogger("accessbot.slack.summary")

CHART_FILENAME = "access-summary.png"


class SlackSummaryPoster:
    """Posts the summary text (alerts first and loud) and its chart to a Slack channel."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    @property
    def surface(self) -> str:
        return "slack"

    async def post_summary(
        self, channel: str, title: str, sections: Sequence[SummarySection], chart_png: bytes | None
    ) -> None:
        message = summary_message(title, sections)
        response = await self._client.chat_postMessage(channel=channel, **message.as_kwargs())
        if not chart_png:
            return
        try:
            await self._client.files_upload_v2(
                channel=str(response.get("channel") or channel),
                thread_ts=str(response["ts"]),
                file=chart_png,
                filename=CHART_FILENAME,
                title=truncate(title, 200),
                alt_txt="Chart of access grants per customer",
            )
        except Exception as error:  # any upload failure (API, network, timeout): the text is out already
            reason = error.response.get("error") if isinstance(error, SlackApiError) and error.response else error
            log.warning("summary chart upload failed (%s); the text was posted", reason)


def summary_message(title: str, sections: Sequence[SummarySection]) -> Message:
    """Alert sections first and loud, then the rest; every line escaped, within Block Kit limits."""
    ordered = sorted(sections, key=lambda s: not s.alert)  # stable: alerts first, order kept otherwise
    blocks: list[Block] = [{"type": "header", "text": plain(title, HEADER_TEXT_MAX)}]
    fallback = [escape(title)]
    for part in ordered:
        heading = fit(part.heading, 200)
        if part.alert:
            heading = f":rotating_light: *{heading}* <!here>"
            fallback.append(f"ALERT: {escape(part.heading)}")
        else:
            heading = f"*{heading}*"
        body_lines = [f"• {fit(line, 500)}" for line in part.lines] or ["_none_"]
        body = heading + "\n" + "\n".join(body_lines)
        if len(body) > SECTION_TEXT_MAX:
            body = _cut_lines(heading, body_lines)
        blocks.append(section(body))
        if len(blocks) >= MAX_BLOCKS - 2:
            blocks.append(context("… more sections left out (Slack allows 50 blocks per message)"))
            break
    return Message("\n".join(fallback), blocks)


def _cut_lines(heading: str, lines: Sequence[str]) -> str:
    kept: list[str] = []
    size = len(heading) + 40
    for line in lines:
        if size + len(line) + 1 > SECTION_TEXT_MAX:
            break
        kept.append(line)
        size += len(line) + 1
    return heading + "\n" + "\n".join(kept) + f"\n… and {len(lines) - len(kept)} more"
