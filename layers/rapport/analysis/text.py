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
    r"also|just|only|then|def|sure"
)
_I_WILL = re.compile(rf"\b(?:i'?ll|il|ill|i\s+ll)\s+(?=(?:{_FUTURE_VERBS})\b)")

# Typed forms mapped to one spelling. Applied word by word after accents and apostrophes are gone.
_REPLACEMENTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\bi'll\b", "i will"),
        (r"\bwe'll\b", "we will"),
        (r"\b(?:can't|cant|cnt|cannot|can not|carnt)\b", "cannot"),
        (r"\b(?:won't|wont|wil not)\b", "will not"),
        (r"\b(?:don't|dont|dnt)\b", "do not"),
        (r"\b(?:doesn't|doesnt)\b", "does not"),
        (r"\b(?:didn't|didnt)\b", "did not"),
        (r"\b(?:isn't|isnt)\b", "is not"),
        (r"\b(?:wasn't|wasnt)\b", "was not"),
        (r"\b(?:haven't|havent)\b", "have not"),
        (r"\b(?:aren't|arent)\b", "are not"),
        (r"\b(?:couldn't|couldnt)\b", "could not"),
        (r"\b(?:shouldn't|shouldnt)\b", "should not"),
        (r"\b(?:i'm|im|i am)\b", "i am"),
        (r"\b(?:i've|ive)\b", "i have"),
        (r"\bi'd\b", "i would"),
        (r"\b(?:it's|its)\b", "it is"),
        (r"\b(?:that's|thats)\b", "that is"),
        (r"\b(?:what's|whats|wats|wat is)\b", "what is"),
        (r"\b(?:who's|whos)\b", "who is"),
        (r"\b(?:there's|theres)\b", "there is"),
        (r"\b(?:gonna|gona)\b", "going to"),
        (r"\b(?:wanna)\b", "want to"),
        (r"\bu\b", "you"),
        (r"\bur\b", "your"),
        (r"\by'all\b", "you"),
        (r"\b(?:pls|plz|plse|pse|plis|please|asb)\b", "please"),
        (
            r"\b(?:tmrw|tmr|tmrow|tomoro|tomorow|tommorow|tommorrow|tomorrw|2moro|2morrow|2mrw|tomorrow)\b",
            "tomorrow",
        ),
        (r"\b(?:2day|tdy|todae)\b", "today"),
        (r"\b(?:2nite|tonite)\b", "tonight"),
        (r"\b(?:thanx|thnx|thx|tnx|thanks|thankx|thnks|tx)\b", "thanks"),
        (r"\b(?:mnth|mth|mnt)\b", "month"),
        (r"\b(?:wk)\b", "week"),
        (r"\b(?:nxt)\b", "next"),
        (r"\b(?:b4)\b", "before"),
        (r"\b(?:acc|acct|a/c)\b", "account"),
        (r"\b(?:msgs|msges|smses|sms's|smss)\b", "messages"),
        (r"\b(?:msg)\b", "message"),
        (r"\b(?:cos|coz|cause|bcoz|bcos|bc)\b", "because"),
        (r"\b(?:payed)\b", "paid"),
        (r"\b(?:tryna)\b", "trying to"),
    )
)

_SPACES = re.compile(r"\s+")
_LETTERS = re.compile(r"[^\W\d_]")
_WORDS = re.compile(r"[a-z']+")


def strip_accents(text: str) -> str:
    """'môre' -> 'more', 'reëling' -> 'reeling'; leaves emoji and digits alone."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def clean(text: str) -> str:
    """Straight apostrophes, single spaces, no accents; case kept (redaction and amounts use this)."""
    return _SPACES.sub(" ", strip_accents(text.translate(_APOSTROPHES))).strip()


def normalise(text: str) -> str:
    """The one lower-case, accent-free spelling every rule is written against."""
    lowered = clean(text).lower()
    lowered = _I_WILL.sub("i will ", lowered)
    for pattern, replacement in _REPLACEMENTS:
        lowered = pattern.sub(replacement, lowered)
    return _SPACES.sub(" ", lowered).strip()


def words(normalised: str) -> list[str]:
    """Words of a normalised text, apostrophes kept inside words ('n, sms'e)."""
    return [word.strip("'") or word for word in _WORDS.findall(normalised)]


def has_letters(text: str) -> bool:
    return bool(_LETTERS.search(text))
