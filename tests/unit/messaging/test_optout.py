"""Opt-out replies: keyword tables, explicit requests, and ordinary sentences that are not opt-outs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.messaging.optout import is_opt_out, normalise_reply

KEYWORD_REPLIES = [
    "STOP",
    "stop",
    "Stop.",
    "STOP!!!",
    " stop ",
    "STOP 😡",
    "Stop please",
    "please STOP",
    "stop it",
    "Stop now thanks",
    "STOPALL",
    "stop all",
    "UNSUBSCRIBE",
    "Unsubscribe.",
    "unsub",
    "CANCEL",
    "Cancel please",
    "END",
    "End.",
    "QUIT",
    "OPT OUT",
    "opt-out",
    "OPTOUT",
    "OptOut",
    "remove me",
    "Stop asseblief",
    "STAAK",
    "hou op",
    "Hou op!",
    "kanselleer",
    "Yeka",
    "stop stop stop",
]

EXPLICIT_REQUESTS = [
    "Please stop sending me these messages",
    "stop sending me messages",
    "STOP SENDING",
    "can you please stop sending",
    "Stop texting me",
    "stop messaging me, I paid already",
    "Stop sending these sms its harassment",
    "stop emailing me",
    "Stop contacting me",
    "Do not contact me",
    "don't text me again",
    "Dont message me",
    "never email me",
    "How do I unsubscribe?",
    "opt me out",
    "remove me from your list",
    "Take me off your mailing list",
    "no more sms",
    "No more messages please",
    "I don't want any more messages",
    "Moenie my kontak nie",
    "moenie my weer sms nie",
    "Moenie vir my bel nie",
    "hou op om my te sms",
    "Kontak my nie meer nie",
    "Stuur vir my geen boodskappe nie",
    "Hou op met julle SMS'e!",
    "hou op met die boodskappe",
    "Yekani ukungithumelela ama-SMS",
    "Musa ukundithumelela imiyalezo",
    "Ningangithumeleli imiyalezo, ngiyacela",
    "Andifuni imiyalezo yenu",
    "Quit messaging me",
    "Ningaphindi ningithumelele lutho",
    "Le se ke la nthomelela dimolaetsa",
    "Emisang go nthomelela melaetsa",
]

NOT_OPT_OUTS = [
    "",
    "   ",
    "ok",
    "thanks",
    "Yes",
    "I can't stop worrying about this debt",
    "don't stop the plan",
    "Please don't stop the payment plan",
    "I want to cancel my debit order",
    "cancel the plan",
    "the payments end next month",
    "When will this end?",
    "I will stop paying if you keep charging interest",
    "please stop the debit order",
    "I never stop sending money to my mother",
    "why did you stop sending statements",
    "Can you send me the balance",
    "if you dont call me back i will complain",
    "Please call me back",
    "don't stop sending me reminders",
    "I do not want to unsubscribe",
    "Stop by the branch tomorrow?",
    "I paid. End of story, check your records",
    "Ek het klaar betaal",
    "Kan julle my asseblief bel",
    "My salary ends up short every month",
    "Hou op met die rente, dit is te veel",
    "Ngicela ningithumelele i-statement",
    "Ndicela nindithumelele iinkcukacha zebhanki",
    "Ke kopa o nthomelele palo ya akhaonto",
    "Quit my job last month",
]


@pytest.mark.parametrize("text", KEYWORD_REPLIES)
def test_keyword_replies_are_opt_outs(text: str) -> None:
    assert is_opt_out(text), text


@pytest.mark.parametrize("text", EXPLICIT_REQUESTS)
def test_explicit_requests_are_opt_outs(text: str) -> None:
    assert is_opt_out(text), text


@pytest.mark.parametrize("text", NOT_OPT_OUTS)
def test_ordinary_sentences_are_not_opt_outs(text: str) -> None:
    assert not is_opt_out(text), text


def test_normalise_reply_drops_case_accents_and_punctuation() -> None:
    assert normalise_reply("  Don\u2019t  TEXT me!!! Caf\u00e9 ") == "dont text me cafe"


@given(
    st.sampled_from(KEYWORD_REPLIES),
    st.sampled_from(["", " ", "!", ".", "!!", " 🙏"]),
    st.booleans(),
)
def test_keyword_opt_outs_survive_case_and_punctuation(keyword: str, tail: str, upper: bool) -> None:
    # Given a keyword reply written in any case with trailing punctuation or an emoji
    text = (keyword.upper() if upper else keyword.lower()) + tail
    # Then it is still an opt-out
    assert is_opt_out(text)
