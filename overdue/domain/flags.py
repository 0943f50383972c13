"""Flags a strategy's conditions may test: facts about an account that are not numbers.

Every active hold names a flag of its kind (an account under a hardship hold has the flag `hardship`), and a
customer with any vulnerability driver on file has `vulnerable`. Kept here, not in the services, so the
configuration models can refuse an unknown flag when a strategy file is loaded.
"""

from __future__ import annotations

DISPUTE = "dispute"
PAUSE = "pause"  # an account paused on a date range (overdue/services/pauses.py): never a condition's flag
HOLD_KINDS = ("dispute", "complaint", "hardship", "breathing_space", "bankruptcy", "deceased", "attorney", "cease")
VULNERABLE = "vulnerable"
FLAGS = (*HOLD_KINDS, VULNERABLE)
