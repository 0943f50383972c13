"""Champion/challenger assignment: which strategy a new account follows.

A hash of (experiment seed, account reference) places each account at a fixed point in [0, 1); the
challengers take their shares from the bottom and the champion the rest. The same account always lands in
the same arm, whatever order or batch it arrives in, and the arm is recorded on the account.
"""

from __future__ import annotations

import hashlib

from overdue.config.models import Experiment


def assign_arm(reference: str, champion: str, experiment: Experiment) -> str:
    digest = hashlib.sha256(f"{experiment.seed}:{reference}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    cumulative = 0.0
    for challenger in experiment.challengers:
        cumulative += challenger.share
        if point < cumulative:
            return challenger.strategy
    return champion
