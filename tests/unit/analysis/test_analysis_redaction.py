"""Personal numbers and addresses replaced with placeholders; amounts, dates and references kept."""

import pytest

from rapport.analysis import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me on 082 555 1234", "call me on [PHONE]"),
        ("my number is 0825551234", "my number is [PHONE]"),
        ("whatsapp +27 82 555 1234 pls", "whatsapp [PHONE] pls"),
        ("try 27825551234", "try [PHONE]"),
        ("office (011) 555-1234", "office [PHONE]"),
        ("email me at thabo.mokoena@example.co.za", "email me at [EMAIL]"),
        ("my ID is 8001015009087", "my ID is [ID_NUMBER]"),
        ("ID: 800101 5009 087", "ID: [ID_NUMBER]"),
        ("card 4111 1111 1111 1111 was charged", "card [CARD_NUMBER] was charged"),
        ("card 4111111111111111", "card [CARD_NUMBER]"),
        ("account number: 1234567890", "account number: [ACCOUNT_NUMBER]"),
        ("acc no 62123456789 ref 88213", "acc no [ACCOUNT_NUMBER] ref 88213"),
        ("rekening nommer 62123456", "rekening nommer [ACCOUNT_NUMBER]"),
    ],
)
def test_personal_numbers_are_replaced(text: str, expected: str) -> None:
    """Given a reply with a phone, email, ID, card or account number, when redacted,
    then a placeholder stands."""
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I paid R1 500 000 on 2026-12-04",
        "I will pay R 15 000 000 on 04-12-2026",
        "Payment was made on the 1st via EFT, reference 88213",
        "I'll pay R1,500.50 on 1/12",
        "account R1 500 is wrong",
    ],
)
def test_amounts_dates_and_short_references_are_kept(text: str) -> None:
    """Given a reply with sums, dates and a short reference, when redacted, then it is unchanged."""
    assert redact(text) == text


def test_several_kinds_in_one_reply_are_all_replaced() -> None:
    """Given a reply with an ID, an email and a phone, when redacted, then none of them survives."""
    redacted = redact("I am 8001015009087, mail a@b.com or phone 082-555-1234")
    assert redacted == "I am [ID_NUMBER], mail [EMAIL] or phone [PHONE]"
