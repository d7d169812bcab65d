"""The daily summary's timeline chart: PNG, one row per customer, a bar per grant, coloured by outcome.

Drawn on a `matplotlib.figure.Figure` with the Agg canvas directly — never `pyplot`, whose global
figure registry is not safe in a server that renders while handling other work, and which
would pick a GUI backend on a desktop.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta

from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from workflows.summary import Outcome, Timeline, TimelineBar

# Chosen for colour-blind readability and for contrast on both light and dark chat themes.
COLOURS: dict[Outcome, str] = {
    Outcome.ACTIVE: "#1f77b4",  # blue: still running
    Outcome.EXPIRED: "#8c8c8c",  # grey: ran out as planned
    Outcome.REVOKED: "#e69f00",  # orange: ended early
    Outcome.FAILED: "#d62728",  # red: a grant or revocation failed
}
WIDTH_INCHES = 10.0
DPI = 110  # 1100 px wide: sharp when a chat client scales it to its ~400-700 px preview
ROW_INCHES = 0.6
BASE_INCHES = 1.9  # title, time axis and legend


def figure_size(rows: int) -> tuple[float, float]:
    """Inches: fixed width, height growing with the number of customers."""
    return WIDTH_INCHES, BASE_INCHES + ROW_INCHES * max(rows, 1)


def pixel_size(rows: int) -> tuple[int, int]:
    """The PNG's size in pixels for `rows` customers (what `render_png` produces)."""
    width, height = figure_size(rows)
    return round(width * DPI), round(height * DPI)


def _x(instant: datetime) -> float:
    """matplotlib's date axis unit (days since its epoch), from an aware datetime."""
    return float(mdates.date2num(instant))  # type: ignore[no-untyped-call]


def _lanes(bars: Sequence[TimelineBar]) -> list[int]:
    """Greedy lane per bar so overlapping grants of one customer sit side by side, not on top."""
    lane_ends: list[datetime] = []
    lanes: list[int] = []
    for bar in bars:  # sorted by start within the customer
        for index, end in enumerate(lane_ends):
            if end <= bar.start:
                lane_ends[index] = bar.end
                lanes.append(index)
                break
        else:
            lane_ends.append(bar.end)
            lanes.append(len(lane_ends) - 1)
    return lanes


def _short(upn: str) -> str:
    return upn.split("@", 1)[0]


def timeline_figure(timeline: Timeline) -> Figure:
    """The chart as a Figure (tests inspect its axes; `render_png` saves it)."""
    rows = list(timeline.rows)
    figure = Figure(figsize=figure_size(len(rows)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    zone = timeline.zone
    ax.set_xlim(_x(timeline.start), _x(timeline.end))
    hours = (timeline.end - timeline.start) / timedelta(hours=1)
    step = 3 if hours > 12 else 1
    ax.xaxis.set_major_locator(mdates.HourLocator(byhour=range(0, 24, step), tz=zone))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=zone))  # type: ignore[no-untyped-call]
    ax.tick_params(axis="both", labelsize=11)
    ax.grid(axis="x", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if timeline.title:
        ax.set_title(timeline.title, fontsize=12, loc="left")

    if not rows:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "No access in this period", transform=ax.transAxes, ha="center", va="center", fontsize=13)
        return figure

    # Row 0 at the top: customers read alphabetically downwards.
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)), labels=rows)
    for boundary in range(len(rows) - 1):  # thin separators: which row a bar belongs to stays obvious
        ax.axhline(boundary + 0.5, color="#eeeeee", linewidth=0.8)
    for row, customer in enumerate(rows):
        bars = [bar for bar in timeline.bars if bar.customer == customer]
        lanes = _lanes(bars)
        count = max(lanes) + 1
        height = 0.8 / count
        for bar, lane in zip(bars, lanes, strict=True):
            left, right = _x(bar.start), _x(bar.end)
            y = row - 0.4 + height * (lane + 0.5)
            ax.barh(
                y, right - left, left=left, height=height * 0.9, color=COLOURS[bar.outcome],
                edgecolor="white", linewidth=0.5,
            )  # fmt: skip
            # Name the person inside the bar when it is wide enough to hold the text.
            if (bar.end - bar.start) / (timeline.end - timeline.start) > 0.08 and height >= 0.2:
                label = _short(bar.who) + (" →" if bar.continues else "")
                ax.text(left + (right - left) / 2, y, label, ha="center", va="center", fontsize=9, color="white")

    present = [o for o in Outcome if any(b.outcome is o for b in timeline.bars)]
    handles = [Patch(color=COLOURS[o], label=o.value) for o in present]
    figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=10)
    return figure


def render_png(timeline: Timeline) -> bytes:
    """The chart as PNG bytes; the customers are also listed in the PNG's Description text.

    Quantized to a 64-colour palette: a chart has a handful of colours, and this makes the file
    ~3x smaller (about 10 KB for a few customers), small enough for Teams to show it inline.
    """
    figure = timeline_figure(timeline)
    raw = io.BytesIO()
    figure.savefig(raw, format="png", dpi=DPI)
    raw.seek(0)
    info = PngInfo()
    info.add_text("Title", timeline.title or "access timeline")
    info.add_text("Description", "rows: " + " | ".join(timeline.rows))
    info.add_text("Software", "accessbot (matplotlib)")
    with Image.open(raw) as image:
        palette = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True, pnginfo=info)
    return out.getvalue()
