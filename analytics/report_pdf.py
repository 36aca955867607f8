"""The client report as a PDF (reportlab): the agency's logo, the workspace and period, the KPI table with the
change against the previous period, the follower and reach/views lines, and the top posts.

Figures Meta did not give are printed "not available", and a chart leaves a gap on such days rather than drawing
a zero. Text is set in DejaVu Sans when the system has it (any script), else in Helvetica."""

from __future__ import annotations

import io
import logging
import math
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .reports import Report, change, figure
from .selectors import Chart

logger = logging.getLogger(__name__)

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts")
PALETTE = ["#0a58ca", "#d63384", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#dc3545", "#6c757d"]
PAGE_WIDTH = A4[0] - 36 * mm
_fonts: tuple[str, str] | None = None


def fonts() -> tuple[str, str]:
    """(regular, bold) font names: DejaVu Sans if installed, registered once; Helvetica otherwise."""
    global _fonts
    if _fonts is None:
        _fonts = ("Helvetica", "Helvetica-Bold")
        for folder in FONT_DIRS:
            regular, bold = Path(folder, "DejaVuSans.ttf"), Path(folder, "DejaVuSans-Bold.ttf")
            if regular.is_file() and bold.is_file():
                try:
                    pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
                    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
                except Exception:  # an unreadable font file: keep Helvetica
                    logger.warning("could not load %s", regular, exc_info=True)
                    continue
                _fonts = ("DejaVuSans", "DejaVuSans-Bold")
                break
    return _fonts


def _text(value: str) -> str:
    """Text for a Paragraph (which reads a little markup); Helvetica cannot draw other scripts, so they go."""
    if fonts()[0] == "Helvetica":
        value = value.encode("cp1252", "replace").decode("cp1252")
    return escape(value)


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = fonts()
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=18, leading=22, spaceAfter=2),
        "subtitle": ParagraphStyle(
            "subtitle", fontName=regular, fontSize=11, leading=14, textColor=colors.HexColor("#495057")
        ),
        "h2": ParagraphStyle("h2", fontName=bold, fontSize=13, leading=16, spaceBefore=10, spaceAfter=6),
        "body": ParagraphStyle("body", fontName=regular, fontSize=9, leading=11.5),
        "small": ParagraphStyle(
            "small", fontName=regular, fontSize=8, leading=10, textColor=colors.HexColor("#495057")
        ),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=8.5, leading=10.5),
    }


# --- Charts ----------------------------------------------------------------------------------------------------
def _nice_step(span: float, ticks: int = 4) -> float:
    raw = span / ticks if span > 0 else 1
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


def _short(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:g}k"
    return f"{value:,.0f}"


def line_chart(chart: Chart, *, width: float = PAGE_WIDTH, height: float = 62 * mm) -> Drawing:
    """The chart's lines by day; a day without a figure breaks the line (never drawn as 0)."""
    regular, _ = fonts()
    drawing = Drawing(width, height)
    values = [v for d in chart.datasets for v in d.values if v is not None]
    left, right, bottom = 14 * mm, 4 * mm, 16 * mm
    legend_rows = math.ceil(len(chart.datasets) / 3) if len(chart.datasets) > 1 else 0
    top = height - 4 * mm - legend_rows * 4 * mm
    plot_w, plot_h = width - left - right, top - bottom
    drawing.add(Rect(left, bottom, plot_w, plot_h, fillColor=colors.HexColor("#f8f9fa"), strokeColor=None))
    if not values:
        drawing.add(
            String(left + plot_w / 2, bottom + plot_h / 2, "not available: no figures for this period",
                   fontName=regular, fontSize=9, textAnchor="middle", fillColor=colors.HexColor("#6c757d"))
        )  # fmt: skip
        return drawing
    low, high = min(values), max(values)
    if low == high:
        low, high = low - max(1, abs(low) * 0.05), high + max(1, abs(high) * 0.05)
    step = _nice_step(high - low)
    low = math.floor(low / step) * step
    high = math.ceil(high / step) * step
    if low < 0 <= min(values):
        low = 0
    n = max(1, len(chart.labels) - 1)

    def x(i: int) -> float:
        return left + plot_w * (i / n if len(chart.labels) > 1 else 0.5)

    def y(v: float) -> float:
        return bottom + plot_h * (v - low) / (high - low)

    tick = low
    while tick <= high + step / 2:
        drawing.add(
            Line(left, y(tick), left + plot_w, y(tick), strokeColor=colors.HexColor("#dee2e6"), strokeWidth=0.4)
        )
        drawing.add(String(left - 2, y(tick) - 3, _short(tick), fontName=regular, fontSize=7, textAnchor="end"))
        tick += step
    every = max(1, math.ceil(len(chart.labels) / 8))
    for i, label in enumerate(chart.labels):
        if i % every == 0 or i == len(chart.labels) - 1:
            day = label[8:10].lstrip("0") + "/" + label[5:7].lstrip("0") if len(label) == 10 else label
            drawing.add(String(x(i), bottom - 9, day, fontName=regular, fontSize=7, textAnchor="middle"))
    for k, dataset in enumerate(chart.datasets):
        colour = colors.HexColor(PALETTE[k % len(PALETTE)])
        run: list[float] = []
        for i, v in enumerate([*dataset.values, None]):
            if v is not None:
                run += [x(i), y(v)]
                continue
            if len(run) >= 4:
                drawing.add(PolyLine(run, strokeColor=colour, strokeWidth=1.4))
            elif len(run) == 2:  # a lone day between gaps: a dot
                drawing.add(Rect(run[0] - 1.2, run[1] - 1.2, 2.4, 2.4, fillColor=colour, strokeColor=None))
            run = []
        if legend_rows:
            col, row = k % 3, k // 3
            lx, ly = left + col * plot_w / 3, height - 4 * mm - row * 4 * mm
            drawing.add(Rect(lx, ly, 8, 3, fillColor=colour, strokeColor=None))
            drawing.add(String(lx + 11, ly, _plain(dataset.label[:48]), fontName=regular, fontSize=7.5))
    missing = chart.missing
    if missing:
        drawing.add(
            String(left, 2, f"No figure on {missing} of {len(chart.labels)} days (not available from Meta); "
                   "the line breaks there.", fontName=regular, fontSize=7, fillColor=colors.HexColor("#6c757d"))
        )  # fmt: skip
    return drawing


# --- Tables ----------------------------------------------------------------------------------------------------
GRID = TableStyle(
    [
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#adb5bd")),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.HexColor("#dee2e6")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
)


def _kpi_table(report: Report, styles: dict[str, ParagraphStyle]) -> Table:
    regular, bold = fonts()
    rows: list[list[Any]] = [["", "This period", "Previous period", "Change"]]
    for card in report.cards:
        value = figure(card.value)
        if card.partial:
            value += f" ({card.coverage})"
        rows.append([Paragraph(_text(card.label), styles["cell"]), value, figure(card.previous), change(card)])
    table = Table(rows, colWidths=[PAGE_WIDTH * w for w in (0.28, 0.30, 0.22, 0.20)], hAlign="LEFT")
    table.setStyle(GRID)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), regular),
                ("FONTNAME", (0, 0), (-1, 0), bold),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ]
        )
    )
    return table


def _posts_table(report: Report, styles: dict[str, ParagraphStyle]) -> Table:
    regular, bold = fonts()
    rows: list[list[Any]] = [["Post", "Channel", "Published", "Reach", "Views", "Interactions"]]
    tz = report.workspace.zoneinfo
    for post in report.posts:
        caption = " ".join((post.caption or post.get_kind_display()).split())
        if len(caption) > 90:
            caption = caption[:89] + "…"
        rows.append(
            [
                Paragraph(_text(caption), styles["cell"]),
                Paragraph(_text(post.channel.display_name), styles["cell"]),
                post.published_at.astimezone(tz).strftime("%d %b %Y"),
                figure(post.reach),
                figure(post.views),
                figure(post.interactions),
            ]
        )
    widths = [PAGE_WIDTH * w for w in (0.34, 0.17, 0.13, 0.12, 0.12, 0.12)]
    table = Table(rows, colWidths=widths, hAlign="LEFT", repeatRows=1)
    table.setStyle(GRID)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), regular),
                ("FONTNAME", (0, 0), (-1, 0), bold),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
            ]
        )
    )
    return table


def _logo(report: Report) -> Image | None:
    if not report.logo:
        return None
    try:
        with report.branding.logo.open("rb") as f:  # type: ignore[union-attr]
            data = f.read()
        width, height = ImageReader(io.BytesIO(data)).getSize()
    except Exception:  # a logo that went missing from storage: the report goes out without it
        logger.warning("the agency logo could not be read", exc_info=True)
        return None
    box_w, box_h = 50 * mm, 18 * mm
    scale = min(box_w / width, box_h / height)
    image = Image(io.BytesIO(data), width=width * scale, height=height * scale)
    image.hAlign = "LEFT"
    return image


def render(report: Report) -> bytes:
    """The report as PDF bytes."""
    styles = _styles()
    regular, _ = fonts()
    out = io.BytesIO()
    workspace, period = report.workspace, report.period
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{workspace.name} social media report, {period.label}",
        author=workspace.agency.name,
        creator="SocialHub",
    )
    story: list[Any] = []
    logo = _logo(report)
    if logo is not None:
        story += [logo, Spacer(1, 4 * mm)]
    story.append(Paragraph(_text(workspace.name), styles["title"]))
    story.append(Paragraph(_text(f"Social media report · {period.label} ({period.days} days)"), styles["subtitle"]))
    accounts = ", ".join(c.display_name for c in report.channels) or "no connected account"
    story.append(Paragraph(_text(f"Accounts: {accounts}"), styles["small"]))
    story.append(Spacer(1, 4 * mm))

    story.append(Paragraph("Key figures", styles["h2"]))
    story.append(_kpi_table(report, styles))
    story.append(
        Paragraph(
            _text(
                "Change is against the previous "
                f"{period.days} days. Followers are the latest figure of the period; the others add up its days. "
                "Days are UTC days, as Meta counts them; publication dates are on the workspace's clock "
                f"({report.workspace.timezone}). "
                "“not available”: Meta gave no figure (too few followers, or data not in yet)."
            ),
            styles["small"],
        )
    )
    for chart in (report.followers, report.reach_views):
        block: list[Any] = [Paragraph(_text(chart.title), styles["h2"]), line_chart(chart)]
        if chart.incomplete:
            block.append(
                Paragraph(
                    _text(
                        f"On {chart.incomplete} of {len(chart.labels)} days not every account had a figure: the "
                        "total is left out (a gap in the line, not a dip)."
                    ),
                    styles["small"],
                )
            )
        story.append(KeepTogether(block))

    story.append(Paragraph("Top posts by reach", styles["h2"]))
    if report.posts:
        story.append(_posts_table(report, styles))
    else:
        story.append(Paragraph("No post was published in this period.", styles["body"]))

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(colors.HexColor("#6c757d"))
        canvas.drawString(18 * mm, 9 * mm, _plain(f"{workspace.name} · {period.label}"))
        canvas.drawRightString(A4[0] - 18 * mm, 9 * mm, f"Page {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _plain(value: str) -> str:
    if fonts()[0] == "Helvetica":
        return value.encode("cp1252", "replace").decode("cp1252")
    return value
