"""Check digits of the numbers people mistype: a wrong digit caught at import never reaches a bank."""

from __future__ import annotations

CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def luhn_check_digit(digits: str) -> str:
    """The Luhn (ISO/IEC 7812) check digit that ends a payment card number starting with `digits`."""
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(digits)):
        doubled = digit * 2 if position % 2 == 0 else digit  # the check digit will take position 0
        total += doubled - 9 if doubled > 9 else doubled
    return str(-total % 10)


def luhn_valid(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


def luhn_complete(digits: str) -> str:
    return digits + luhn_check_digit(digits)


def iban_valid(iban: str) -> bool:
    """ISO 13616: the country code and check digits moved to the end, letters as 10..35, mod 97 is 1."""
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def cn_id_complete(first17: str) -> str:
    """A Chinese resident ID number from its first 17 digits and the ISO 7064 MOD 11-2 check character."""
    total = sum(int(d) * w for d, w in zip(first17, CN_ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]
