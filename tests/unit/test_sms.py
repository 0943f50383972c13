"""SMS segment counting at its boundaries: GSM-7 160/153 septets, extension characters, UCS-2 70/67 units."""

from __future__ import annotations

import pytest

from overdue.domain.sms import GSM7_BASIC, GSM7_EXTENSION, oversize, sms_size


def test_the_gsm_alphabet_has_127_basic_characters_and_10_escaped_ones() -> None:
    # 128 code points in GSM 03.38, one of which is the escape to the extension table.
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # an extension character costs two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 159 + "[", "GSM-7", 161, 2),
        ("中" * 70, "UCS-2", 70, 1),
        ("中" * 71, "UCS-2", 71, 2),
        ("中" * 134, "UCS-2", 134, 2),
        ("中" * 135, "UCS-2", 135, 3),
        ("a" * 69 + "中", "UCS-2", 70, 1),  # one non-GSM character turns the whole text into UCS-2
        ("Zoë" + "a" * 68, "UCS-2", 71, 2),
        ("😀" * 35, "UCS-2", 70, 1),  # outside the BMP: a surrogate pair, two units
        ("😀" * 36, "UCS-2", 72, 2),
    ],
)
def test_size(text: str, encoding: str, units: int, segments: int) -> None:
    size = sms_size(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)


def test_an_escape_pair_is_never_split_across_segments() -> None:
    # 306 septets would fit two 153-septet segments, but the euro sign would straddle them: three.
    assert sms_size("a" * 152 + "€" + "a" * 152).segments == 3
    assert sms_size("a" * 151 + "€" + "a" * 153).segments == 2


def test_a_surrogate_pair_is_never_split_across_segments() -> None:
    assert sms_size("中" * 66 + "😀" + "中" * 66).segments == 3
    assert sms_size("中" * 65 + "😀" + "中" * 67).segments == 2


def test_oversize_names_the_size_of_an_sms_past_the_maximum_only() -> None:
    assert oversize("sms", "中" * 134, 2) is None
    too_long = oversize("sms", "中" * 135, 2)
    assert too_long is not None
    assert too_long.segments == 3
    assert oversize("email", "中" * 1000, 1) is None  # only SMS is counted in segments
