"""`python -m overdue ...` is `overdue ...` (the stack starts its parts this way, with this interpreter)."""

from overdue.cli import app

app(prog_name="overdue")
