"""Why a step was refused, as a code with its values: it reads as an English sentence (the command line, the
logs), and a screen says it in the person's own language from the code (dashboard/inbox_format.py).

Each module that refuses keeps its own codes and English sentences and makes its `refusal` with
`refusals(TEXTS)`; codes are unique across modules, since a screen translates by the code alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    english: str  # with {placeholders} for params
    params: dict[str, object]

    def __str__(self) -> str:
        return self.english.format(**self.params)


class Refused(ValueError):
    """A step that was not taken; `refusal` says why as a code a screen can translate (None: only English)."""

    def __init__(self, why: Refusal | str) -> None:
        self.refusal = why if isinstance(why, Refusal) else None
        super().__init__(str(why))


def refusals(texts: Mapping[str, str]) -> Callable[..., Refusal]:
    """A module's `refusal(code, **params)`: a code it does not know is a programming error (KeyError)."""

    def refusal(code: str, **params: object) -> Refusal:
        return Refusal(code, texts[code], params)

    return refusal
