"""Split a payment across fees, interest and principal in the policy's order; never create or lose a cent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Allocation:
    parts: dict[str, int]
    unapplied_minor: int


def allocate(amount_minor: int, owed: Mapping[str, int], order: Sequence[str]) -> Allocation:
    if amount_minor < 0:
        raise ValueError("a payment amount cannot be negative")
    remaining = amount_minor
    parts: dict[str, int] = {}
    for component in order:
        take = min(remaining, max(owed.get(component, 0), 0))
        parts[component] = take
        remaining -= take
    return Allocation(parts=parts, unapplied_minor=remaining)
