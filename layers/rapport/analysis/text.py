"""Normalising the way debtors type, so the rules can be written once.

Replies arrive as SMS, WhatsApp or email: lower or upper case, no punctuation, curly apostrophes,
accents dropped ("more" for "môre"), slang and contractions typed without the apostrophe ("ill",
"cant", "im"). `normalise` turns all of that into one lower-case, accent-free form in which
contractions are spelt out ("i will", "cannot", "do not"), so every rule sees one spelling.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})

# "ill" and "il" are "I'll" only when a verb follows; otherwise "ill" means sick.
_FUTURE_VERBS = (
    r"pay|be|do|send|settle|make|try|transfer|call|phone|sort|get|have|deposit|clear|see|let|come|"
    r"contact|arrange|organise|organize|put|take|start|give|check|eft|finish|bring|go|definitely|"
    r"also|just|only|then|def|sure|explain|ring|email|whatsapp|sms|text|wait|speak|talk|need|look|manage|"
    r"deal|fix|ask|confirm|keep|honour|honor|drop|pop|update|visit|return|rather|gladly|probably"
)
_I_WILL = re.compile(rf"\b(?:i'?ll|il|ill|i\s+ll)\s+(?=(?:{_FUTURE_VERBS})\b)")

# Typed forms and the one spelling each is mapped to, whole words only, in one pass after accents and
# apostrophes are gone. Forms are separated by "|".
_SPELLINGS: dict[str, str] = {
    "i will": "i'll",
    "we will": "we'll",
    "cannot": "can't|cant|cnt|can not|carnt",
    "will not": "won't|wont|wil not",
    "do not": "don't|dont|dnt",
    "does not": "doesn't|doesnt",
    "did not": "didn't|didnt",
    "is not": "isn't|isnt",
    "was not": "wasn't|wasnt",
    "have not": "haven't|havent",
    "has not": "hasn't|hasnt",
    "had not": "hadn't|hadnt",
    "were not": "weren't|werent",
    "would not": "wouldn't|wouldnt",
    "are not": "aren't|arent",
    "could not": "couldn't|couldnt",
    "should not": "shouldn't|shouldnt",
    "i am": "i'm|im",
    "i have": "i've|ive",
    "you have": "you've|youve",
    "we have": "we've",
    "they have": "they've",
    "you are": "you're|youre",
    "we are": "we're",
    "they are": "they're|theyre",
    "he is": "he's",
    "she is": "she's",
    "i would": "i'd",
    "it is": "it's|its",
    "that is": "that's|thats",
    "what is": "what's|whats|wats|wat is",
    "who is": "who's|whos",
    "there is": "there's|theres",
    "going to": "gonna|gona",
    "want to": "wanna",
    "you": "u|y'all",
    "your": "ur",
    "please": "pls|plz|plse|pse|plis|asb",
    "tomorrow": "tmrw|tmr|tmrow|tomoro|tomorow|tommorow|tommorrow|tomorrw|2moro|2morrow|2mrw|tmw|tmoz|"
    "2moz|tomoz|2mro|tomorro|tmoro",
    "today": "2day|tdy|todae",
    "tonight": "2nite|tonite",
    "thanks": "thanx|thnx|thx|tnx|thankx|thnks|tx",
    "month": "mnth|mth|mnt",
    "week": "wk",
    "next": "nxt",
    "before": "b4",
    "account": "acc|acct|a/c",
    "messages": "msgs|msges|smses|sms's|smss",
    "message": "msg",
    "because": "cos|coz|cause|bcoz|bcos|bc",
    "paid": "payed",
    "transferred": "transfered|tranferred|trasferred|transferd",
    "deposited": "deposted|depositted",
    "trying to": "tryna",
    "but": "bt",
    "when": "wen|wn",
    "will": "wll",
    "definitely": "def|deff|defo|definately|definitly",
    "just": "jst|jus",
    "payment": "pymnt|paymnt|pmnt|pmt",
    "amount": "amt",
    "someone": "sumone|some1",
    "this": "ths",
    "not": "nt",
}
_SPELLING_OF = {form: spelling for spelling, forms in _SPELLINGS.items() for form in forms.split("|")}
_TYPED_FORMS = re.compile(
    r"\b(?:" + "|".join(re.escape(form) for form in sorted(_SPELLING_OF, key=len, reverse=True)) + r")\b"
)

# Voice-to-text transcripts: hesitation sounds and stammered repeats ("I I can't", "stop stop stop").
_FILLERS = re.compile(r"\b(?:u+m+|u+h+m*|e+r+m+|e+h+m+|h+m+)\b[,.]?\s*")
_REPEATS = re.compile(r"\b([a-z][a-z']*)(?:[ ,]+\1\b)+")

_SPACES = re.compile(r"\s+")
_LETTERS = re.compile(r"[^\W\d_]")
_WORDS = re.compile(r"[a-z']+")


def strip_accents(text: str) -> str:
    """'môre' -> 'more', 'reëling' -> 'reeling'; leaves emoji and digits alone."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def clean(text: str) -> str:
    """Straight apostrophes, single spaces, no accents; case kept (redaction and amounts use this)."""
    return _SPACES.sub(" ", strip_accents(text.translate(_APOSTROPHES))).strip()


def normalise(text: str) -> str:
    """The one lower-case, accent-free spelling every rule is written against."""
    lowered = clean(text).lower()
    lowered = _REPEATS.sub(r"\1", _FILLERS.sub("", lowered))
    lowered = _I_WILL.sub("i will ", lowered)
    lowered = _TYPED_FORMS.sub(lambda match: _SPELLING_OF[match.group(0)], lowered)
    return _SPACES.sub(" ", lowered).strip()


def words(normalised: str) -> list[str]:
    """Words of a normalised text, apostrophes kept inside words ('n, sms'e)."""
    return [word.strip("'") or word for word in _WORDS.findall(normalised)]


def has_letters(text: str) -> bool:
    return bool(_LETTERS.search(text))
