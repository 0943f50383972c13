"""An email as it leaves: the rendered text, an HTML part built from it, and the unsubscribe link in both
parts and in the List-Unsubscribe header (one-click, RFC 8058).

The HTML is derived from the text, never written separately, so both parts always say the same thing; every
character of the text is escaped, so a customer's name can never become markup.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

UNSUBSCRIBE_LABEL = {
    "en-US": "To stop receiving these emails, unsubscribe here",
    "zh-CN": "如不希望再收到此类邮件，请点击此处退订",
}


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def html_from_text(text: str) -> str:
    """Paragraphs at blank lines, line breaks kept, runs of `- ` lines as a list."""
    blocks = [block for block in text.strip().split("\n\n") if block.strip()]
    return "\n".join(_block(block.splitlines()) for block in blocks)


def _block(lines: list[str]) -> str:
    parts: list[str] = []
    prose: list[str] = []
    items: list[str] = []
    for line in lines:
        if line.startswith("- "):
            if prose:
                parts.append("<p>" + "<br>\n".join(prose) + "</p>")
                prose = []
            items.append("<li>" + html.escape(line[2:].strip()) + "</li>")
        else:
            if items:
                parts.append("<ul>" + "".join(items) + "</ul>")
                items = []
            prose.append(html.escape(line.strip()))
    if prose:
        parts.append("<p>" + "<br>\n".join(prose) + "</p>")
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    return "\n".join(parts)


def compose(subject: str, body: str, locale: str, unsubscribe_url: str) -> EmailContent:
    label = UNSUBSCRIBE_LABEL.get(locale, UNSUBSCRIBE_LABEL["en-US"])
    link = html.escape(unsubscribe_url, quote=True)
    document = (
        f'<!DOCTYPE html>\n<html lang="{html.escape(locale, quote=True)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>\n<body>\n{html_from_text(body)}\n"
        f'<p style="font-size:small"><a href="{link}">{html.escape(label)}</a></p>\n</body></html>'
    )
    return EmailContent(
        subject=subject,
        text=f"{body.rstrip()}\n\n{label}: {unsubscribe_url}",
        html=document,
        headers={"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
