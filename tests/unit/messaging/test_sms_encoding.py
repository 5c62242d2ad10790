"""SMS encoding: GSM-7 or UCS-2, characters and segments, checked at the boundaries and by property."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.messaging.sms_encoding import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    GSM7_SEGMENT_LIMIT,
    GSM7_SINGLE_LIMIT,
    UCS2_SEGMENT_LIMIT,
    UCS2_SINGLE_LIMIT,
    fits_in,
    gsm7_septets,
    sms_encoding,
)

# ---------------------------------------------------------------------------------------------
# The tables


def test_the_default_alphabet_has_127_characters_and_the_extension_table_ten():
    # Given the GSM 03.38 tables (128 codes, one of them the escape; ten extension characters)
    # Then nothing is missing, nothing is doubled, and the two tables do not overlap
    assert len(GSM7_BASIC) == 127
    assert sorted(GSM7_BASIC.values()) == [code for code in range(128) if code != 0x1B]
    assert len(GSM7_EXTENSION) == 10
    assert not set(GSM7_BASIC) & set(GSM7_EXTENSION)


@pytest.mark.parametrize(
    ("character", "code"),
    [
        ("@", 0x00), ("£", 0x01), ("$", 0x02), ("¥", 0x03), ("è", 0x04), ("é", 0x05), ("Ç", 0x09),
        ("\n", 0x0A), ("\r", 0x0D), ("Δ", 0x10), ("_", 0x11), ("Ξ", 0x1A), ("É", 0x1F), (" ", 0x20),
        ("¤", 0x24), ("0", 0x30), ("¡", 0x40), ("A", 0x41), ("Ä", 0x5B), ("§", 0x5F), ("¿", 0x60),
        ("a", 0x61), ("ä", 0x7B), ("ö", 0x7C), ("ñ", 0x7D), ("ü", 0x7E), ("à", 0x7F),
    ],
)  # fmt: skip
def test_default_alphabet_positions(character, code):
    # Given a character from 3GPP TS 23.038's default alphabet / Then it sits at its code
    assert GSM7_BASIC[character] == code


@pytest.mark.parametrize(
    ("character", "code"),
    [("\f", 0x0A), ("^", 0x14), ("{", 0x28), ("}", 0x29), ("\\", 0x2F), ("[", 0x3C), ("~", 0x3D),
     ("]", 0x3E), ("|", 0x40), ("€", 0x65)],
)  # fmt: skip
def test_extension_table_positions(character, code):
    assert GSM7_EXTENSION[character] == code
    assert gsm7_septets(character) == 2


def test_characters_often_mistaken_for_gsm7_are_not_in_it():
    # Given look-alikes and common typography / Then none is GSM-7
    for character in ("`", "ç", "\u00a0", "’", "“", "–", "…", "\t", "\u2126"):  # noqa: RUF001
        assert gsm7_septets(character) is None, character


# ---------------------------------------------------------------------------------------------
# GSM-7 boundaries


def test_160_gsm_characters_fit_one_segment_and_161_need_two():
    one = sms_encoding("a" * 160)
    assert (one.encoding, one.characters, one.segments) == ("GSM-7", 160, 1)
    assert (one.per_segment_limit, one.remaining_in_segment) == (160, 0)

    two = sms_encoding("a" * 161)
    assert (two.characters, two.segments, two.per_segment_limit) == (161, 2, 153)
    assert two.remaining_in_segment == 2 * 153 - 161


def test_306_gsm_characters_fit_two_segments_and_307_need_three():
    assert sms_encoding("a" * 306).segments == 2
    assert sms_encoding("a" * 306).remaining_in_segment == 0
    assert sms_encoding("a" * 307).segments == 3


def test_extension_characters_count_two_septets():
    # Given 80 euro signs: 160 septets
    assert sms_encoding("€" * 80).characters == 160
    assert sms_encoding("€" * 80).segments == 1
    # When one more septet is added / Then the message is concatenated
    assert sms_encoding("€" * 80 + "a").segments == 2
    assert sms_encoding("[]{}~^|\\").characters == 16


def test_an_escape_sequence_is_never_split_across_segments():
    # Given 306 septets, which would fill two segments exactly if the euro sign could straddle them
    text = "a" * 152 + "€" + "a" * 152
    encoding = sms_encoding(text)
    # Then the euro moves whole into segment two, and the last "a" spills into a third
    assert encoding.characters == 306
    assert encoding.segments == 3
    assert encoding.remaining_in_segment == 153 - 1


def test_empty_text_is_one_segment():
    encoding = sms_encoding("")
    assert (encoding.encoding, encoding.characters, encoding.segments) == ("GSM-7", 0, 1)
    assert encoding.remaining_in_segment == 160


# ---------------------------------------------------------------------------------------------
# UCS-2 boundaries


def test_70_ucs2_units_fit_one_segment_and_71_need_two():
    one = sms_encoding("ê" + "a" * 69)
    assert (one.encoding, one.characters, one.segments, one.per_segment_limit) == ("UCS-2", 70, 1, 70)
    assert one.remaining_in_segment == 0

    two = sms_encoding("ê" + "a" * 70)
    assert (two.characters, two.segments, two.per_segment_limit) == (71, 2, 67)
    assert two.remaining_in_segment == 2 * 67 - 71


def test_an_emoji_is_two_code_units():
    assert sms_encoding("😀").characters == 2
    assert sms_encoding("😀" * 35).segments == 1
    assert sms_encoding("😀" * 35 + "a").segments == 2


def test_a_surrogate_pair_is_never_split_across_segments():
    # Given 134 code units (two full UCS-2 segments) with an emoji straddling the boundary
    text = "a" * 66 + "😀" + "a" * 66
    encoding = sms_encoding(text)
    # Then the emoji moves whole to segment two, and one "a" spills into a third
    assert encoding.characters == 134
    assert encoding.segments == 3


def test_one_character_outside_the_alphabet_makes_the_whole_message_ucs2():
    encoding = sms_encoding("a" * 100 + "✓")
    assert encoding.encoding == "UCS-2"
    assert encoding.segments == 2
    assert encoding.non_gsm_characters == ("✓",)


# ---------------------------------------------------------------------------------------------
# Afrikaans


@pytest.mark.parametrize("letter", ["ê", "ô", "ë", "î", "û", "ï", "Ê", "Ë"])
def test_afrikaans_circumflex_and_diaeresis_letters_force_ucs2(letter):
    # Given a word with ê, ô or ë (none is in the GSM 03.38 table)
    encoding = sms_encoding(f"Hy {letter} dit")
    assert encoding.encoding == "UCS-2"
    assert encoding.non_gsm_characters == (letter,)


@pytest.mark.parametrize("letter", ["é", "è", "ö", "ü", "ä", "É", "Ö", "Ü", "Ä"])
def test_afrikaans_letters_that_are_in_gsm7(letter):
    assert sms_encoding(f"Hy {letter} dit").encoding == "GSM-7"


def test_afrikaans_text_without_circumflex_or_diaeresis_stays_gsm7():
    assert sms_encoding("Antwoord STOP om af te skakel.").encoding == "GSM-7"
    assert sms_encoding("Sê asseblief môre vir ons.").non_gsm_characters == ("ê", "ô")


def test_a_no_break_space_in_money_would_cost_ucs2():
    # Given "R1 234.50" written with a no-break space (as some locale libraries do)
    assert sms_encoding("R1\u00a0234.50").encoding == "UCS-2"
    assert sms_encoding("R1 234.50").encoding == "GSM-7"


# ---------------------------------------------------------------------------------------------
# fits_in


def test_fits_in_counts_segments():
    assert fits_in("a" * 160, 1)
    assert not fits_in("a" * 161, 1)
    assert fits_in("a" * 306, 2)
    assert not fits_in("a" * 307, 2)
    assert not fits_in("ê" * 71, 1)


def test_fits_in_refuses_zero_segments():
    with pytest.raises(ValueError, match="at least 1"):
        fits_in("hi", 0)


# ---------------------------------------------------------------------------------------------
# Property: the segment count equals a brute-force split of the encoded message


def _encode(text: str) -> tuple[str, list[int]]:
    """Encode to the units actually sent: septets (with ESC) or UTF-16 code units."""
    septets: list[int] = []
    for character in text:
        if character in GSM7_BASIC:
            septets.append(GSM7_BASIC[character])
        elif character in GSM7_EXTENSION:
            septets.extend((0x1B, GSM7_EXTENSION[character]))
        else:
            raw = text.encode("utf-16-be")
            return "UCS-2", [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return "GSM-7", septets


def _brute_force_split(encoding: str, units: list[int]) -> list[list[int]]:
    """Cut the encoded units into segments, stepping back rather than cutting an ESC or surrogate pair."""
    single, limit = (160, 153) if encoding == "GSM-7" else (70, 67)
    if len(units) <= single:
        return [units]
    chunks, start = [], 0
    while start < len(units):
        end = min(start + limit, len(units))
        last = units[end - 1]
        opens_pair = last == 0x1B if encoding == "GSM-7" else 0xD800 <= last <= 0xDBFF
        if end < len(units) and opens_pair:
            end -= 1
        chunks.append(units[start:end])
        start = end
    return chunks


_gsm_heavy = st.text(alphabet=st.sampled_from(sorted(GSM7_BASIC) + sorted(GSM7_EXTENSION) * 3), max_size=700)
_mixed = st.text(
    alphabet=st.one_of(
        st.sampled_from(sorted(GSM7_BASIC)),
        st.sampled_from(["ê", "ô", "ë", "😀", "🙏", "€", "𝄞"]),
    ),
    max_size=400,
)
_anything = st.text(max_size=300)


@settings(max_examples=200, deadline=None)
@given(st.one_of(_gsm_heavy, _mixed, _anything))
def test_segments_equal_a_brute_force_split_of_the_encoded_text(text):
    encoding = sms_encoding(text)
    name, units = _encode(text)
    chunks = _brute_force_split(name, units)

    assert encoding.encoding == name
    assert encoding.characters == len(units)
    assert encoding.segments == len(chunks)
    assert encoding.remaining_in_segment == encoding.per_segment_limit - len(chunks[-1])
    assert all(len(chunk) <= encoding.per_segment_limit for chunk in chunks)
    expected_limit = {
        ("GSM-7", True): GSM7_SINGLE_LIMIT,
        ("GSM-7", False): GSM7_SEGMENT_LIMIT,
        ("UCS-2", True): UCS2_SINGLE_LIMIT,
        ("UCS-2", False): UCS2_SEGMENT_LIMIT,
    }[(name, len(chunks) == 1)]
    assert encoding.per_segment_limit == expected_limit
