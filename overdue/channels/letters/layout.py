"""The structure of a rendered letter, read from the plain text its template produced.

The template stays the one source of a letter's wording and is readable as plain text (the outbox shows
it so); a few plain-text conventions carry the layout into the PDF:

    # Title                     the letter's subject line
    ## Heading                  a section heading
    - item                      a bulleted item
      Label:   value            indented lines that all read "label: value" form a table (the itemised
        Sub-label:  value       balance); deeper indentation indents the label
      anything else indented    kept as indented lines (the tick boxes of a reply form)
    - - - - -                   a cut line (the tear-off reply form)

Blank lines separate paragraphs; the line breaks inside a paragraph are kept (signatures, addresses).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

CUT_LINE = re.compile(r"^(- ){3,}-?\s*$")
TABLE_ROW = re.compile(r"^(?P<indent> +)(?P<label>[^:：]+[:：])\s*(?P<value>.*)$")


@dataclass(frozen=True)
class Heading:
    level: int  # 1: the letter's subject line, 2: a section
    text: str


@dataclass(frozen=True)
class Paragraph:
    lines: tuple[str, ...]
    indented: bool = False


@dataclass(frozen=True)
class Bullet:
    text: str


@dataclass(frozen=True)
class Row:
    level: int
    label: str
    value: str


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class CutLine:
    pass


Block = Heading | Paragraph | Bullet | Table | CutLine


def parse(text: str) -> list[Block]:
    blocks: list[Block] = []
    for chunk in re.split(r"\n[ \t]*\n", text.strip("\n")):
        blocks += _chunk([line.rstrip() for line in chunk.splitlines() if line.strip()])
    return blocks


def _chunk(lines: list[str]) -> Iterator[Block]:
    """One paragraph of text; runs of indented lines and single-line markers inside it become their own blocks."""
    plain: list[str] = []
    indented: list[str] = []
    for line in lines:
        if line.startswith(" "):
            if plain:
                yield Paragraph(tuple(plain))
                plain = []
            indented.append(line)
            continue
        if indented:
            yield _indented(indented)
            indented = []
        marker = _marker(line)
        if marker is None:
            plain.append(line)
            continue
        if plain:
            yield Paragraph(tuple(plain))
            plain = []
        yield marker
    if plain:
        yield Paragraph(tuple(plain))
    if indented:
        yield _indented(indented)


def _marker(line: str) -> Block | None:
    if CUT_LINE.match(line):
        return CutLine()
    if line.startswith("## "):
        return Heading(2, line[3:].strip())
    if line.startswith("# "):
        return Heading(1, line[2:].strip())
    if line.startswith("- "):
        return Bullet(line[2:].strip())
    return None


def _indented(lines: list[str]) -> Table | Paragraph:
    rows = [TABLE_ROW.match(line) for line in lines]
    if not all(rows):
        return Paragraph(tuple(line.strip() for line in lines), indented=True)
    base = min(len(row["indent"]) for row in rows if row)
    return Table(
        tuple(Row((len(row["indent"]) - base) // 2, row["label"].strip(), row["value"].strip()) for row in rows if row)
    )
