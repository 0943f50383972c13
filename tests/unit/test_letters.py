"""Letters: the plain-text layout conventions, and the PDF with its embedded CJK font."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from overdue.channels.context import Sender, sample_context
from overdue.channels.letters import layout
from overdue.channels.letters.pdf import Letter, LetterError, Letterhead, render_pdf
from overdue.channels.templates import TemplateRenderer
from overdue.services.letters import recipient_block
from overdue.settings import Settings
from tests.support import pdf_fonts, pdf_text

FONT = Settings().letter_font
TEMPLATES = TemplateRenderer(Path(__file__).resolve().parents[2] / "configs" / "templates")
SENDER = Sender("Northwind Bank", "1-800-555-0100", "PO Box 7, Springfield, IL 62701")
HEAD = Letterhead(SENDER.business_name, SENDER.address, SENDER.callback_phone)
# A name with a rarer character (䶮, CJK Extension A): customers' names can use any character, so the
# embedded font must be the whole font, not a subset of common characters.
NAME = "欧阳䶮"


def test_the_layout_conventions() -> None:
    text = """# Re: Account ****1234

Dear Maria,

## 1. The amount
Line one,
line two.
- first point
- second point
  Principal:   $1,000.00
  Between January 1 and today:
    Charged since:   + $5.00
  Total:  $1,005.00

Check all that apply:
[ ] It is not mine:
    [ ] Not my debt.
    [ ] Wrong amount.
- - - - - - - - -
Yours sincerely,
Customer Care"""
    assert layout.parse(text) == [
        layout.Heading(1, "Re: Account ****1234"),
        layout.Paragraph(("Dear Maria,",)),
        layout.Heading(2, "1. The amount"),
        layout.Paragraph(("Line one,", "line two.")),
        layout.Bullet("first point"),
        layout.Bullet("second point"),
        layout.Table(
            (
                layout.Row(0, "Principal:", "$1,000.00"),
                layout.Row(0, "Between January 1 and today:", ""),
                layout.Row(1, "Charged since:", "+ $5.00"),
                layout.Row(0, "Total:", "$1,005.00"),
            )
        ),
        layout.Paragraph(("Check all that apply:", "[ ] It is not mine:")),
        layout.Paragraph(("[ ] Not my debt.", "[ ] Wrong amount."), indented=True),
        layout.CutLine(),
        layout.Paragraph(("Yours sincerely,", "Customer Care")),
    ]


def test_chinese_label_value_rows_form_a_table() -> None:
    assert layout.parse("  本金：¥1,234.00\n  欠款合计：¥1,315.00") == [
        layout.Table((layout.Row(0, "本金：", "¥1,234.00"), layout.Row(0, "欠款合计：", "¥1,315.00")))
    ]


def letter(locale: str, template: str = "reminder_letter", name: str = NAME, head: Letterhead = HEAD) -> Letter:
    context = sample_context(SENDER, locale) | {"customer_name": name}
    body = TEMPLATES.render(template, "letter", locale, context).body
    recipient = recipient_block(name, "北京市朝阳区建国路88号, 100022")
    return Letter(locale, head, "****0001-42", date(2026, 2, 5), recipient, body)


def test_a_chinese_letter_embeds_its_font_and_carries_the_name_and_itemised_balance() -> None:
    pdf = render_pdf(letter("zh-CN"), FONT)
    fonts = pdf_fonts(pdf)
    assert fonts
    assert all(name.endswith("+NotoSansSC-Regular") for name in fonts), fonts  # subsets of the one font
    assert all(fonts.values()), fonts  # every font is embedded, none left to the reader's machine
    text = pdf_text(pdf)
    assert f"尊敬的{NAME}" in text
    for item in ("还款通知函", "本金", "¥1,234.00", "欠款合计", "¥1,315.00", "参考编号：****0001-42", "证据"):
        assert item in text, item
    assert "日期：2026年2月5日" in text


def test_an_english_letter_is_us_letter_size_and_a_chinese_one_a4() -> None:
    english = PdfReader(io.BytesIO(render_pdf(letter("en-US", name="Maria Garcia"), FONT)))
    chinese = PdfReader(io.BytesIO(render_pdf(letter("zh-CN"), FONT)))
    assert [round(float(x)) for x in english.pages[0].mediabox.upper_right] == [612, 792]
    assert [round(float(x)) for x in chinese.pages[0].mediabox.upper_right] == [595, 842]


def test_a_chinese_name_prints_in_an_english_letter_too() -> None:
    text = pdf_text(render_pdf(letter("en-US"), FONT))
    assert f"Dear {NAME}," in text
    assert "Date: February 5, 2026" in text


def test_every_page_carries_the_reference_and_its_number() -> None:
    pdf = render_pdf(letter("zh-CN", "offer"), FONT)
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert "参考编号：****0001-42" in text
        assert f"第 {number} 页" in text


def test_the_same_letter_gives_the_same_bytes() -> None:
    assert render_pdf(letter("zh-CN"), FONT) == render_pdf(letter("zh-CN"), FONT)


def test_a_letter_to_a_third_party_names_no_business() -> None:
    anonymous = Letterhead(None, None, SENDER.callback_phone)
    text = pdf_text(render_pdf(letter("en-US", "locate", head=anonymous), FONT))
    assert SENDER.callback_phone in text
    assert SENDER.business_name not in text
    assert SENDER.address not in text


@pytest.mark.parametrize("content", [None, b"not a font at all"])
def test_an_unusable_font_is_a_clear_error(tmp_path: Path, content: bytes | None) -> None:
    font = tmp_path / "broken.ttf"
    if content is not None:
        font.write_bytes(content)
    with pytest.raises(LetterError, match="OVERDUE_LETTER_FONT"):
        render_pdf(letter("zh-CN"), font)


def test_the_recipient_block_puts_each_address_part_on_its_own_line() -> None:
    assert recipient_block("Maria Garcia", "742 Evergreen Terrace, Springfield, IL 62704") == (
        "Maria Garcia",
        "742 Evergreen Terrace",
        "Springfield",
        "IL 62704",
    )
    # The synthetic portfolio writes the name into the address: it is not printed twice.
    assert recipient_block("张伟", "张伟, 朝阳区建国路12号, 北京市") == ("张伟", "朝阳区建国路12号", "北京市")
    assert recipient_block(None, "1 Side St，Springfield") == ("1 Side St", "Springfield")
