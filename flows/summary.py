"""Add up per-shard counts into one summary for a stage."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def merge_counts(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, dict):
                total[key] = merge_counts([total.get(key, {}), value])
            else:
                total[key] = total.get(key, 0) + value
    return total
