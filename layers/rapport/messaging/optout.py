"""Recognising opt-out replies: carrier keywords and explicit requests to stop contact.

The rules are kept narrow on purpose. A reply is an opt-out when it is a keyword on its own ("STOP",
"Stop please", "UNSUBSCRIBE!") or contains an explicit request ("stop sending me these messages",
"do not contact me", "moenie my kontak nie"). Ordinary sentences that merely contain "stop", "end"
or "cancel" ("I can't stop worrying", "don't stop the plan", "cancel the debit order") are not
opt-outs; the reply analysis (Intent.OPT_OUT) reads those with more context.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["is_opt_out", "normalise_reply"]


# Replies that are an opt-out when they make up the whole message (with polite filler around them).
# English carrier keywords, Afrikaans ("staak", "hou op", "kanselleer", "uitteken") and isiZulu /
# isiXhosa "yeka" (leave it, stop) and "misa" (stop).
_KEYWORDS = {
    "stop",
    "stopall",
    "stop all",
    "unsubscribe",
    "unsub",
    "cancel",
    "end",
    "quit",
    "optout",
    "opt out",
    "revoke",
    "remove",
    "remove me",
    "staak",
    "hou op",
    "kanselleer",
    "uitteken",
    "teken uit",
    "yeka",
    "misa",
}
# Words that may surround a keyword without changing its meaning.
_FILLER = {
    "please",
    "pls",
    "plz",
    "now",
    "it",
    "thanks",
    "thank",
    "you",
    "thx",
    "asb",
    "asseblief",
    "dankie",
    "ngiyacela",
    "messages",
    "sms",
    "smses",
    "texts",
    "me",
}

_VERBS = "(?:" + "|".join((
    r"send(?:ing)?", r"text(?:ing)?", r"messag(?:e|ing)", r"e-?mail(?:ing)?", r"sms(?:ing)?",
    r"contact(?:ing)?", r"call(?:ing)?", r"spam(?:ming)?", r"whatsapp(?:ing)?",
)) + ")"
_OBJECTS = r"(?:messages?|texts?|sms(?:es)?|e-?mails?|mails?|notifications?|reminders?|whatsapps?|calls?)"
_DETERMINERS = r"(?:these|this|the|your|any|all|those|such|more)"

# Explicit requests; each is searched in the normalised reply.
_REQUEST_PATTERNS = [
    # stop sending me ..., stop texting me, stop contacting us, quit texting me
    re.compile(rf"\b(?:stop|quit) {_VERBS} (?:me|us)\b"),
    # stop sending these messages, stop sending sms
    re.compile(rf"\bstop {_VERBS}(?: (?:me|us))?(?: {_DETERMINERS})? {_OBJECTS}\b"),
    # "please stop sending", "stop messaging" at the end of the reply
    re.compile(rf"\bstop {_VERBS}$"),
    # do not contact me, dont text me again, never email me
    re.compile(rf"\b(?:do not|dont|never|pls dont|please dont) {_VERBS} me\b(?! back)"),
    re.compile(r"\b(?:unsubscribe|opt me out|opt out|optout|stopall)\b"),
    re.compile(r"\b(?:remove|take) me (?:off|from) (?:your|the|this) (?:mailing )?(?:list|database)\b"),
    re.compile(rf"\bno more {_OBJECTS}\b"),
    re.compile(rf"\bi (?:do not|dont) want (?:any )?(?:more )?(?:{_DETERMINERS} )?{_OBJECTS}\b"),
    # Afrikaans: moenie my (weer/meer) kontak/bel/sms nie; hou op om my te sms; kontak my nie meer nie
    re.compile(r"\bmoenie (?:vir )?my (?:ooit )?(?:weer |meer )?(?:kontak|bel|sms|e-?pos|whatsapp)\b"),
    re.compile(r"\bhou op (?:om )?(?:vir )?(?:my )?(?:te )?(?:kontak|bel|sms|stuur|e-?pos)\b"),
    re.compile(r"\bkontak my (?:nooit )?(?:nie )?(?:meer|weer)\b"),
    re.compile(r"\bstuur (?:vir )?my (?:geen|nie meer) (?:boodskappe|sms'?e|e-?posse)\b"),
    re.compile(r"\bek wil (?:geen|nie meer) (?:boodskappe|sms'?e|e-?posse)\b"),
    # Afrikaans: hou op met (die) boodskappe / sms'e / oproepe
    re.compile(
        r"\bhou op met (?:die |hierdie |jou |julle |al die )?(?:boodskappe|sms'?e|sms|oproepe|e-?posse)\b"
    ),
    # isiZulu / isiXhosa: yeka(ni) / musa(ni) ukungithumelela (stop / don't send me), with or without
    # imiyalezo (messages); the negative imperative ningangithumeleli; andifuni imiyalezo (I don't want
    # messages).
    re.compile(r"\b(?:yeka|yekani|musa|musani|misa|misani) uku(?:ngi|ndi)(?:thumelel|thumel|bhalel)\w*"),
    re.compile(r"\b(?:ni|u)nga(?:ngi|ndi)(?:thumeleli|bhaleli)\b"),
    re.compile(r"\b(?:angi|andi)funi (?:le |lo )?(?:imiyalezo|imilayezo)\b"),
    # isiZulu / isiXhosa: ningaphindi nindithumelele (don't send me again).
    re.compile(r"\b(?:ni|u)ngaphindi (?:(?:ni|u)(?:ngi|ndi))?(?:thumelel|bhalel)\w*"),
    # Setswana / Sesotho: o se ka wa nthomelela, le se ke la hlola le nthomella (don't (ever) send me),
    # emisa go nthomelela (stop sending me).
    re.compile(r"\bse k[ae] (?:wa |la |lwa )?(?:hlola |tlhola )?(?:(?:o|le|lo) )?nthomel\w*"),
    re.compile(r"\bemis\w* (?:go|ho) nthomel\w*"),
]
# A request with one of these among the three words before it is negated or conditional ("don't
# stop sending me reminders", "if you stop sending me messages ...", "I never said unsubscribe").
_NEGATING_WORDS = {"if", "unless", "dont", "not", "never", "didnt", "cant", "wont", "shouldnt", "wouldnt"}
_NEGATION_WINDOW = 3


def normalise_reply(text: str) -> str:
    """Lower case, accents and punctuation removed, apostrophes dropped ("Don't!" -> "dont")."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).lower()
    plain = re.sub(r"['\u2018\u2019`]", "", plain)
    # Keep letters, digits and hyphens inside words; everything else separates words.
    plain = re.sub(r"[^\w\s-]|_", " ", plain)
    plain = re.sub(r"(?<!\w)-|-(?!\w)", " ", plain)
    return " ".join(plain.split())


def _is_keyword_reply(normalised: str) -> bool:
    words = normalised.replace("-", " ").split()
    if not words:
        return False
    core = [word for word in words if word not in _FILLER]
    if not core:
        # "stop" itself is also filler-free; a reply of only filler ("thanks") is no opt-out.
        return False
    phrase = " ".join(core)
    return phrase in _KEYWORDS or phrase.replace(" ", "") in _KEYWORDS or all(word == "stop" for word in core)


def _has_request(normalised: str) -> bool:
    for pattern in _REQUEST_PATTERNS:
        for match in pattern.finditer(normalised):
            before = normalised[: match.start()].split()[-_NEGATION_WINDOW:]
            if not _NEGATING_WORDS.intersection(before):
                return True
    return False


def is_opt_out(text: str) -> bool:
    """True for a keyword-style opt-out or an explicit request to stop contact."""
    normalised = normalise_reply(text)
    if not normalised:
        return False
    return _is_keyword_reply(normalised) or _has_request(normalised)
