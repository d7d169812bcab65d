"""The daily access summary in Teams (`workflows.ports.SummaryPoster`, surface ``teams``)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence

from bot.teams import cards
from bot.teams.outbound import TeamsMessenger, message
from workflows.ports import SummarySection

log = logging.getLogger("accessbot.teams")

# Teams rejects activities over about 28 KB when an image is inlined as a data URI; a chart
# bigger than this goes out as text only rather than failing the whole summary.
MAX_INLINE_IMAGE_BYTES = 20_000


def summary_text(title: str, sections: Sequence[SummarySection]) -> str:
    """The summary as plain text: the fallback that always goes out."""
    ordered = sorted(sections, key=lambda s: not s.alert)
    parts = [f"**{title}**"]
    for section in ordered:
        lines = "\n\n".join(f"- {line}" for line in section.lines) or "(none)"
        parts.append(f"**{section.heading}**\n\n{lines}")
    return "\n\n".join(parts)


class TeamsSummaryPoster:
    """Posts the summary as an Adaptive Card with the chart inlined (a data URI); text if that fails."""

    def __init__(self, messenger: TeamsMessenger) -> None:
        self._messenger = messenger

    @property
    def surface(self) -> str:
        return "teams"

    async def post_summary(
        self, channel: str, title: str, sections: Sequence[SummarySection], chart_png: bytes | None
    ) -> None:
        ordered = sorted(sections, key=lambda s: not s.alert)  # alerts first, loudly
        rows = [(s.heading, list(s.lines), s.alert) for s in ordered]
        image = None
        if chart_png and len(chart_png) <= MAX_INLINE_IMAGE_BYTES:
            image = "data:image/png;base64," + base64.b64encode(chart_png).decode("ascii")
        elif chart_png:
            log.warning("Teams summary: chart of %d bytes is too large to inline; sending text only", len(chart_png))
        if image is not None:
            try:
                content = cards.summary_card(title, rows, image)
                await self._messenger.to_channel(channel, message(attachments=[cards.attachment(content)]))
                return
            except Exception as error:  # the text must still go out
                log.warning("Teams summary with chart failed (%s); sending text only", error)
        content = cards.summary_card(title, rows, None)
        try:
            await self._messenger.to_channel(channel, message(attachments=[cards.attachment(content)]))
        except Exception as error:
            log.warning("Teams summary card failed (%s); sending plain text", error)
            await self._messenger.to_channel(channel, message(summary_text(title, sections)))
