"""Split a payment across fees, interest and principal in the policy's order, and undo that split exactly when
the payment is reversed; never create or lose a cent. What a payment cannot apply becomes the customer's credit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace


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


@dataclass(frozen=True)
class Balances:
    """What an account owes, per component, and what it holds to the customer's credit."""

    fees: int
    interest: int
    principal: int
    credit: int = 0

    @property
    def owed(self) -> int:
        return self.fees + self.interest + self.principal

    @property
    def net(self) -> int:
        """Owed less credit: every payment lowers it by exactly its amount, every reversal raises it back."""
        return self.owed - self.credit

    def pay(self, amount_minor: int, order: Sequence[str]) -> tuple[Balances, Allocation]:
        split = allocate(
            amount_minor, {"fees": self.fees, "interest": self.interest, "principal": self.principal}, order
        )
        return self._moved(split, -1), split

    def reverse(self, split: Allocation) -> Balances:
        """Put back exactly what `split` took, and take back the credit it left. A credit already smaller than
        that (it cannot be, while credit is only ever added by payments) is an error, not a silent loss."""
        if split.unapplied_minor > self.credit:
            raise ValueError("the credit this payment left is no longer there to take back")
        return self._moved(split, +1)

    def _moved(self, split: Allocation, sign: int) -> Balances:
        parts = split.parts
        return replace(
            self,
            fees=self.fees + sign * parts.get("fees", 0),
            interest=self.interest + sign * parts.get("interest", 0),
            principal=self.principal + sign * parts.get("principal", 0),
            credit=self.credit - sign * split.unapplied_minor,
        )
