"""How many SMS segments a text costs: GSM-7 when every character is in the GSM 03.38 alphabet, else UCS-2.

A single GSM-7 message holds 160 septets; once it is split, each segment loses 7 septets to the
concatenation header (153). A character of the extension table (`€`, `[`, `{`, ...) is sent as an
escape plus the character, so it costs two septets, and an escape pair is never split across segments.
Any other character (Chinese, `ë`, emoji) switches the whole text to UCS-2: 70 code units alone, 67 per
segment once split, where a character outside the Basic Multilingual Plane is a surrogate pair (two
units, never split). Carriers bill per segment and some drop long concatenations, hence a maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7 = GSM7_BASIC | GSM7_EXTENSION

Encoding = Literal["GSM-7", "UCS-2"]
# (units in a single message, units per segment of a concatenated one)
CAPACITY: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsSize:
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int

    def describe(self) -> str:
        return f"{self.segments} segment{'s' if self.segments != 1 else ''} ({self.encoding}, {self.units} units)"


def sms_size(text: str) -> SmsSize:
    """Set operations and counts, not a loop per character: the daily cycle sizes every text it queues. The
    widths are only spelled out when the text does not fit in one message and has to be packed."""
    characters = set(text)
    if characters <= GSM7:
        encoding: Encoding = "GSM-7"
        wide = characters & GSM7_EXTENSION
    else:
        encoding = "UCS-2"
        wide = {char for char in characters if ord(char) > 0xFFFF}
    units = len(text) + sum(text.count(char) for char in wide)
    single, per_segment = CAPACITY[encoding]
    if units <= single:
        return SmsSize(encoding, units, 1)
    if not wide:  # every character one unit: packing is plain division
        return SmsSize(encoding, units, -(-units // per_segment))
    widths = [2 if char in wide else 1 for char in text]
    return SmsSize(encoding, units, _segments(widths, per_segment))


def _segments(widths: list[int], per_segment: int) -> int:
    """Greedy packing, as handsets do: a character that does not fit whole starts the next segment."""
    segments, used = 1, 0
    for width in widths:
        if used + width > per_segment:
            segments, used = segments + 1, 0
        used += width
    return segments


def oversize(channel: str, text: str, max_segments: int) -> SmsSize | None:
    """The size of an SMS that would cost more than `max_segments`; None for a text that fits or another channel.
    Such a message is skipped, never sent truncated: a cut-off opt-out or amount misleads the customer."""
    if channel != "sms":
        return None
    size = sms_size(text)
    return size if size.segments > max_segments else None
