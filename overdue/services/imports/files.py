"""Reading a CSV file into rows and problems: the header, line numbers as a spreadsheet shows them, and the
report a person fixing the file reads."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import (
    ValidationError,
)
from sqlmodel import Session

from overdue.services.imports.cells import Row, error_message, show
from overdue.store.bulk import chunked

LOOKUP_CHUNK = 5_000  # bound parameters per IN (...) query stay well under SQLite's and PostgreSQL's limits
REPORT_LIMIT = 1_000  # problems listed in the report; all of them stay in ImportRejected.problems


@dataclass(frozen=True)
class ImportProblem:
    line: int
    field: str
    message: str


class ImportRejected(Exception):
    """A file that was not imported at all; `problems` says every reason, line by line."""

    def __init__(self, path: Path, problems: Sequence[ImportProblem]) -> None:
        super().__init__(path, problems)
        self.path = path
        self.problems = tuple(problems)

    def __str__(self) -> str:
        lines = [f"{self.path}: {len(self.problems)} problem(s); nothing was imported."]
        lines += [f"{self.path}:{p.line}: field '{p.field}': {p.message}" for p in self.problems[:REPORT_LIMIT]]
        if len(self.problems) > REPORT_LIMIT:
            lines.append(f"{self.path}: ... and {len(self.problems) - REPORT_LIMIT} more problem(s) not shown.")
        return "\n".join(lines)


@dataclass
class ImportResult:
    created: int
    already_present: int


# --- reading --------------------------------------------------------------------------------------

R = TypeVar("R", bound=Row)


@dataclass(frozen=True)
class Parsed:
    rows: list[tuple[int, dict[str, str]]]
    problems: list[ImportProblem]


def read(path: Path, required: Sequence[str], optional: Sequence[str] = ()) -> Parsed:
    """Rows as {column: cell} with every known column present, numbered as a spreadsheet numbers them."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return parse(csv.reader(handle), required, optional)
    except FileNotFoundError:
        raise ImportRejected(path, [ImportProblem(0, "(file)", "file not found")]) from None
    except OSError as exc:
        raise ImportRejected(path, [ImportProblem(0, "(file)", exc.strerror or str(exc))]) from None


def parse(reader: Iterator[list[str]], required: Sequence[str], optional: Sequence[str]) -> Parsed:
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[ImportProblem] = []
    line = 0
    try:
        header = next(reader, None)
        if header is None:
            expected = ",".join(required)
            return Parsed(rows, [ImportProblem(1, "(file)", f"the file is empty; expected a header line: {expected}")])
        line = 1
        names = [name.strip().lower() for name in header]
        problems += header_problems(names, required, optional)
        if problems:
            return Parsed(rows, problems)
        known = (*required, *optional)
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            extra = [cell for cell in cells[len(names) :] if cell.strip()]
            if extra:
                problems.append(ImportProblem(line, "(row)", f"{len(cells)} cells but the header has {len(names)}"))
                continue
            row = dict.fromkeys(known, "") | dict(zip(names, cells, strict=False))
            rows.append((line, row))
    except UnicodeDecodeError:
        problems.append(ImportProblem(line + 1, "(file)", "not UTF-8 text (save it as 'CSV UTF-8')"))
    except csv.Error as exc:
        problems.append(ImportProblem(line + 1, "(file)", f"not readable as CSV: {exc}"))
    return Parsed(rows, problems)


def header_problems(names: Sequence[str], required: Sequence[str], optional: Sequence[str]) -> list[ImportProblem]:
    problems = [ImportProblem(1, name, "required column is missing") for name in required if name not in names]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(ImportProblem(1, name or "(blank)", "column appears more than once"))
        elif name not in required and name not in optional:
            problems.append(ImportProblem(1, name or "(blank)", "unknown column"))
        seen.add(name)
    return problems


def validate(model: type[R], parsed: Parsed, problems: list[ImportProblem]) -> list[tuple[int, R]]:
    valid: list[tuple[int, R]] = []
    for line, cells in parsed.rows:
        try:
            valid.append((line, model.model_validate(cells)))
        except ValidationError as exc:
            problems += [
                ImportProblem(line, str(error["loc"][0]) if error["loc"] else "(row)", error_message(error))
                for error in exc.errors(include_url=False)
            ]
    return valid


def first_lines(refs: Sequence[tuple[int, str]], field: str) -> tuple[dict[str, int], list[ImportProblem]]:
    """Each reference's first line, and a problem for every later line that repeats it (an id that makes a
    re-import idempotent must be unique within the file too)."""
    first: dict[str, int] = {}
    problems: list[ImportProblem] = []
    for line, ref in refs:
        if ref in first:
            problems.append(ImportProblem(line, field, f"{show(ref)} is already on line {first[ref]}"))
        first.setdefault(ref, line)
    return first, problems


def existing(session: Session, column: Any, values: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for batch in chunked(sorted(set(values)), LOOKUP_CHUNK):
        found.update(session.scalars(sa.select(column).where(column.in_(batch))))
    return found


def actor(path: Path) -> str:
    return f"import:{path.name}"[:64]
