"""The timeline chart: a valid PNG of the expected size, one row per customer (no pixel diffs)."""

from __future__ import annotations

import io
import struct
from datetime import UTC, date, datetime, time, timedelta

import pytest
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle
from PIL import Image

from adapters.chart import COLOURS, DPI, pixel_size, render_png, timeline_figure
from tests.summary.helpers import PRAGUE
from workflows.summary import Outcome, Timeline, TimelineBar
from workflows.summary_schedule import period_for_slot, slot_for_day

PERIOD = period_for_slot(slot_for_day(date(2026, 3, 3), time(8, 0), PRAGUE), time(8, 0), PRAGUE)
H = timedelta(hours=1)


def bar(customer: str, who: str, grant_id: int, start_h: float, end_h: float, outcome: Outcome) -> TimelineBar:
    start = PERIOD.start + start_h * H
    return TimelineBar(customer, f"{who}@contoso.example", grant_id, start, PERIOD.start + end_h * H, outcome, False)


FIXED_DAY = Timeline(
    start=PERIOD.start,
    end=PERIOD.end,
    zone=PRAGUE,
    rows=("Customer X", "Customer Y", "Northwind"),
    bars=(
        bar("Customer X", "eve", 1, 2, 3, Outcome.EXPIRED),
        bar("Customer X", "frank", 2, 2, 2.5, Outcome.REVOKED),  # overlaps eve: a second lane
        bar("Customer Y", "gina", 3, 2, 24, Outcome.ACTIVE),
        bar("Customer Y", "kate", 4, 6, 24, Outcome.FAILED),
        bar("Northwind", "ivan", 5, 20, 22, Outcome.EXPIRED),
    ),
    title="Access summary — Tue 3 Mar 2026",
)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk (bytes 16-24 of any PNG)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_a_fixed_day_renders_a_valid_png_of_the_expected_size() -> None:
    data = render_png(FIXED_DAY)
    assert png_size(data) == pixel_size(3)
    assert pixel_size(3)[0] == 10 * DPI  # ~1100 px wide: readable when a chat client scales it down
    with Image.open(io.BytesIO(data)) as image:
        image.verify()  # checks every chunk's CRC
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.size == pixel_size(3)
        assert image.info["Description"] == "rows: Customer X | Customer Y | Northwind"


def test_one_row_per_customer_and_a_bar_per_grant_coloured_by_outcome() -> None:
    figure = timeline_figure(FIXED_DAY)
    ax = figure.axes[0]
    assert [label.get_text() for label in ax.get_yticklabels()] == ["Customer X", "Customer Y", "Northwind"]
    bars = [patch for patch in ax.patches if isinstance(patch, Rectangle)]
    assert len(bars) == len(FIXED_DAY.bars)

    def rgba(colour: object) -> tuple[float, ...]:
        return tuple(round(float(c), 3) for c in to_rgba(colour))  # type: ignore[arg-type]

    assert {rgba(patch.get_facecolor()) for patch in bars} == {rgba(COLOURS[o]) for o in Outcome}
    # each bar sits on its customer's row (row i spans i-0.5 .. i+0.5)
    for patch, drawn in zip(bars, FIXED_DAY.bars, strict=True):
        row = FIXED_DAY.rows.index(drawn.customer)
        assert row - 0.5 <= patch.get_y() and patch.get_y() + patch.get_height() <= row + 0.5


@pytest.mark.parametrize("rows", [0, 1, 12])
def test_height_grows_with_customers(rows: int) -> None:
    names = tuple(f"Customer {i:02d}" for i in range(rows))
    timeline = Timeline(
        PERIOD.start, PERIOD.end, PRAGUE, names,
        tuple(bar(n, "eve", i, 1, 2, Outcome.EXPIRED) for i, n in enumerate(names)),
    )  # fmt: skip
    assert png_size(render_png(timeline)) == pixel_size(rows)


def test_times_on_the_axis_are_local() -> None:
    figure = timeline_figure(FIXED_DAY)
    figure.canvas.draw()
    labels = [label.get_text() for label in figure.axes[0].get_xticklabels()]
    assert "09:00" in labels and "12:00" in labels  # Prague wall-clock hours, not UTC (08:00 UTC = 09:00)
    assert PERIOD.start == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
