"""Why the services refuse a step (beyond the task queue's rules in overdue/domain/tasks.py): codes with their
English sentences, in one catalogue so a code names one refusal wherever it is raised. The command line prints
the English; the dashboard says it in the person's language from `dashboard/messages/refusals.yaml`, which has
every code here (a test checks).
"""

from __future__ import annotations

from overdue.domain.refusals import refusals

TEXTS = {
    "no_account": "account {account} does not exist",
    "no_task": "task {task} does not exist",
    "no_evidence": "evidence {evidence} does not exist",
    "no_hold": "hold {hold} does not exist",
    "comment_empty": "a comment needs some text",
    "assignee_missing": "name the person to assign the task to",
    "file_empty": "the file is empty",
    "file_too_large": "the file is larger than {megabytes} MB",
    "unknown_channel": "unknown channel '{channel}' (one of {choices})",
    "unknown_outcome": "unknown outcome '{outcome}' (one of {choices})",
    "conversation_in_future": "a conversation cannot be in the future ({at})",
    "promise_incomplete": "a promised amount needs a date and must be positive",
    "promise_before_conversation": "a promise to pay cannot be dated before the conversation ({on})",
    "promise_needs_date": "a promise to pay needs the promised date",
    "documents_without_review": "documents go with a dispute or a hardship report (outcome dispute or hardship)",
    "unknown_hold_kind": "unknown hold kind '{kind}' (one of {choices})",
    "hold_reason_required": "a reason is required",
    "hold_ends_before_start": "a hold cannot end before it starts",
    "hold_ended": "hold {hold} already ended on {on}",
    "reveal_who": "say who is revealing it: the reveal is recorded under a person's id",
    "reveal_reason": "a reason of at least {characters} characters is required to reveal personal data",
    "reveal_nothing": "account {account} has no {field} on record",
}

refusal = refusals(TEXTS)
