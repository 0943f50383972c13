"""Lay a rendered letter out as a PDF with ReportLab: letterhead, recipient, date and reference, the body,
and a footer with the reference and page number on every page.

One TrueType font is embedded (subset to the glyphs used) for every language, so a Chinese name in an
English letter prints as surely as in a Chinese one. The font is parsed once per process; a page then
takes a few milliseconds (see `benchmarks/letters.py`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    KeepTogether,
    PageTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import Paragraph as Text

from overdue.channels.context import fmt_date
from overdue.channels.letters import layout

PAGE_SIZES = {"en-US": LETTER, "zh-CN": A4}
LABELS = {
    "en-US": {"reference": "Reference: ", "date": "Date: ", "phone": "Telephone: ", "page": "Page {page}"},
    "zh-CN": {"reference": "参考编号：", "date": "日期：", "phone": "联系电话：", "page": "第 {page} 页"},
}
TICK_BOX = "□"  # a reply form's "[ ]" (U+25A1 is in GB 2312, so every CJK font has it)
MARGIN = 20 * mm
LETTERHEAD_HEIGHT = 30 * mm
INK, MUTED, RULE = colors.HexColor("#1a1a1a"), colors.HexColor("#555555"), colors.HexColor("#b0b0b0")


class LetterError(RuntimeError):
    """A letter cannot be laid out: the font is missing or unusable."""


@dataclass(frozen=True)
class Letterhead:
    """Who writes. A letter to a relative or contact carries no name and no address: it may not reveal the
    business, let alone a debt (the `locate` rule), so only the number to call back is printed."""

    name: str | None
    address: str | None
    phone: str


@dataclass(frozen=True)
class Letter:
    locale: str
    letterhead: Letterhead
    reference: str  # printed on every page, so a reply or a call can be matched to this letter
    dated: date
    recipient: tuple[str, ...]  # the addressee's name, then the address lines
    body: str  # the rendered letter template: the wording, with the layout conventions of `layout`


def render_pdf(letter: Letter, font: Path) -> bytes:
    face = register_font(font)
    labels = LABELS.get(letter.locale, LABELS["en-US"])
    styles = Styles(face, cjk=letter.locale.startswith("zh"))
    width, height = PAGE_SIZES.get(letter.locale, A4)
    blocks = layout.parse(letter.body)
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=(width, height),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=next((b.text for b in blocks if isinstance(b, layout.Heading) and b.level == 1), letter.reference),
        author=letter.letterhead.name or "",
        creator="overdue",
        lang=letter.locale,
        invariant=True,  # the same letter gives the same bytes: no timestamp or random document id
        initialFontName=face,  # pages start in our font, not Helvetica: every font the PDF names is embedded
    )
    body_width = width - 2 * MARGIN
    first = Frame(MARGIN, MARGIN, body_width, height - 2 * MARGIN - LETTERHEAD_HEIGHT, id="first", showBoundary=0)
    later = Frame(MARGIN, MARGIN, body_width, height - 2 * MARGIN, id="later", showBoundary=0)
    decorate = _decorations(letter, labels, face)
    doc.addPageTemplates(
        [
            PageTemplate("first", [first], onPage=decorate(first_page=True), autoNextPageTemplate="later"),
            PageTemplate("later", [later], onPage=decorate(first_page=False)),
        ]
    )
    doc.build(_story(letter, blocks, labels, styles, body_width))
    return buffer.getvalue()


@cache
def register_font(path: Path) -> str:
    """Register the TrueType font once per process; its name for ReportLab."""
    name = f"overdue-letter-{path.stem}"
    try:
        pdfmetrics.registerFont(TTFont(name, str(path)))
    except (OSError, TTFError) as exc:
        raise LetterError(
            f"letter font {path}: {exc} (set OVERDUE_LETTER_FONT to a TrueType font with glyf outlines)"
        ) from None
    return name


class Styles:
    def __init__(self, face: str, *, cjk: bool) -> None:
        base = ParagraphStyle("letter", fontName=face, textColor=INK, wordWrap="CJK" if cjk else None)

        def style(name: str, size: float, **extra: Any) -> ParagraphStyle:
            return ParagraphStyle(name, base, fontSize=size, leading=size * 1.45, **extra)

        self.body = style("body", 10.5, spaceAfter=6)
        self.title = style("title", 13, spaceBefore=4, spaceAfter=10, keepWithNext=1)
        self.heading = style(
            "heading", 11.5, spaceBefore=8, spaceAfter=4, keepWithNext=1, textColor=colors.HexColor("#1f3a5f")
        )
        self.bullet = style("bullet", 10.5, leftIndent=5 * mm, bulletIndent=1 * mm, bulletFontName=face, spaceAfter=3)
        self.indented = style("indented", 10.5, leftIndent=8 * mm, spaceAfter=6)
        self.cell = style("cell", 10.5)
        self.amount = style("amount", 10.5, alignment=TA_RIGHT)
        self.meta = style("meta", 10, alignment=TA_RIGHT, textColor=MUTED)


def _story(
    letter: Letter, blocks: list[layout.Block], labels: dict[str, str], styles: Styles, width: float
) -> list[Flowable]:
    meta = (f"{labels['date']}{fmt_date(letter.dated, letter.locale)}", f"{labels['reference']}{letter.reference}")
    story: list[Flowable] = [Text(_lines(letter.recipient), styles.body), Text(_lines(meta), styles.meta)]
    story.append(Spacer(1, 6 * mm))
    cut = next((n for n, block in enumerate(blocks) if isinstance(block, layout.CutLine)), len(blocks))
    story += [_flowable(block, styles, width) for block in blocks[:cut]]
    if cut < len(blocks):  # a tear-off reply form is never split across pages
        story.append(KeepTogether([_flowable(block, styles, width) for block in blocks[cut:]]))
    return story


def _flowable(block: layout.Block, styles: Styles, width: float) -> Flowable:
    match block:
        case layout.Heading(level, text):
            return Text(escape(text), styles.title if level == 1 else styles.heading)
        case layout.Bullet(text):
            return Text(escape(text), styles.bullet, bulletText="•")
        case layout.Paragraph(lines, indented):
            return Text(_lines(lines), styles.indented if indented else styles.body)
        case layout.Table(rows):
            return _table(rows, styles, width)
        case layout.CutLine():
            return HRFlowable(width="100%", color=RULE, dash=(3, 3), spaceBefore=10, spaceAfter=6)
    raise AssertionError(f"unknown block {block!r}")


def _table(rows: tuple[layout.Row, ...], styles: Styles, width: float) -> Flowable:
    """The itemised amounts: labels left (indented by level), amounts right-aligned, hairlines between rows."""
    data = [
        [
            Text(escape(row.label), ParagraphStyle(f"l{row.level}", styles.cell, leftIndent=row.level * 5 * mm)),
            Text(escape(row.value), styles.amount),
        ]
        for row in rows
    ]
    table = Table(data, colWidths=[width * 0.68, width * 0.27], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), styles.cell.fontName),  # not Helvetica: every font is embedded
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -2), 0.25, RULE),
                ("LINEABOVE", (0, -1), (-1, -1), 0.75, INK),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return KeepTogether([table, Spacer(1, 4 * mm)])


def _lines(lines: tuple[str, ...]) -> str:
    return "<br/>".join(escape(line).replace("[ ]", TICK_BOX) for line in lines)


def _decorations(
    letter: Letter, labels: dict[str, str], face: str
) -> Callable[..., Callable[[Canvas, BaseDocTemplate], None]]:
    """Page furniture: the letterhead on the first page, the reference and page number on every page."""
    head = letter.letterhead

    def decorate(*, first_page: bool) -> Callable[[Canvas, BaseDocTemplate], None]:
        def draw(canvas: Canvas, doc: BaseDocTemplate) -> None:
            width, height = doc.pagesize
            canvas.saveState()
            if first_page:
                top = height - MARGIN
                if head.name:
                    canvas.setFont(face, 16)
                    canvas.setFillColor(INK)
                    canvas.drawString(MARGIN, top - 12, head.name)
                canvas.setFont(face, 9)
                canvas.setFillColor(MUTED)
                details = [head.address, f"{labels['phone']}{head.phone}"]
                for n, line in enumerate(filter(None, details)):
                    canvas.drawString(MARGIN, top - 28 - 12 * n, line)
                canvas.setStrokeColor(RULE)
                canvas.setLineWidth(0.75)
                canvas.line(
                    MARGIN,
                    height - MARGIN - LETTERHEAD_HEIGHT + 6 * mm,
                    width - MARGIN,
                    height - MARGIN - LETTERHEAD_HEIGHT + 6 * mm,
                )
            canvas.setFont(face, 8.5)
            canvas.setFillColor(MUTED)
            canvas.drawString(MARGIN, MARGIN / 2, f"{labels['reference']}{letter.reference}")
            canvas.drawRightString(width - MARGIN, MARGIN / 2, labels["page"].format(page=canvas.getPageNumber()))
            canvas.restoreState()

        return draw

    return decorate
