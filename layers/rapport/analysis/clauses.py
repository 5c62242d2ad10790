"""Clauses of a reply, and which of them are negated or set against what came before.

Debtors put several things in one message: "Can't make it on Friday, I'll pay Monday instead",
"I paid last month but not this one, will pay Friday", "Ek het nie geld nie maar sal die 25ste
betaal". Read as one bag of words, such a reply names two days and both a refusal and a promise.
Read clause by clause, the negated clause ("can't make it on Friday") drops out and the clause that
answers it ("I'll pay Monday instead") carries the meaning.

A clause ends at sentence punctuation, at a comma that is not inside a number, and before a
contrastive connective ("but", "maar", "however", "otherwise"). A clause is *contrastive* when it
opens with such a connective or says "instead". A position is *negated* when a negation word comes
before it in its own clause ("not this Friday", "won't be able to pay today", "nie Vrydag nie").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONTRAST_OPENERS = r"but|maar|however|though|although|otherwise|anders|except"
# "Thanksgiving is tomorrow so I'll pay on Friday": "so" before a new subject opens a clause of its own.
_BOUNDARY = re.compile(
    rf"[.!?;\n]+\s*|,(?!\d)\s*|\s+-\s+|\s+(?=(?:{_CONTRAST_OPENERS})\b)|\s+(?=so (?:i|we|then i|then we)\b)"
)
_CONTRAST_OPENING = re.compile(rf"^(?:{_CONTRAST_OPENERS})\b")
# "Monday instead", and a day settled on: "so Tuesday it is", "let's say Friday".
_INSTEAD = re.compile(
    r"\b(?:instead|rather|in plaas daarvan|eerder)\b|^(?:so |ok |okay |then |right )?(?:[\w']+ ){1,3}it is\b|"
    r"\b(?:let us|lets) (?:say|make it)\b|^make it\b"
)
_NEGATION = re.compile(
    r"\b(?:not|never|cannot|no(?! (?:problem|worries|stress|issue)\b)|nie|nooit|niks|geen|unable|"
    r"without|neither|nor|hardly|barely|angi\w*|ha ke)\b"
)


# Words of paying, shared by the rules that ask whether a clause is about paying.
PAYING = re.compile(
    r"\b(?:pay|paying|payment|betaal|settle|settling|transfer|transferring|inbetaal|eft|oorbetaal|oorplaas|"
    r"vereffen|deposit\w*|(?:debit|stop) order|deduct\w*|the money|die geld|\w*khokh\w*|lefa|r ?\d|premium|"
    r"go(?:es)? across|instal+ments?)\b"
)


@dataclass(frozen=True, slots=True)
class Clause:
    """One clause of a normalised reply: its span in the reply and how it relates to the rest."""

    start: int
    end: int
    text: str
    contrastive: bool

    @property
    def about_paying(self) -> bool:
        return bool(PAYING.search(self.text))

    def negated_before(self, position: int) -> bool:
        """Whether a negation word comes before `position` (an offset in the whole reply) here."""
        return bool(_NEGATION.search(self.text, 0, max(0, position - self.start)))


def split_clauses(normalised: str) -> list[Clause]:
    """The clauses of a normalised reply, in order; together they cover the whole text."""
    clauses: list[Clause] = []
    start = 0
    for boundary in _BOUNDARY.finditer(normalised):
        if boundary.start() > start:
            clauses.append(_clause(normalised, start, boundary.start(), clauses[-1] if clauses else None))
        start = boundary.end()
    if start < len(normalised):
        clauses.append(_clause(normalised, start, len(normalised), clauses[-1] if clauses else None))
    return clauses


def _clause(normalised: str, start: int, end: int, previous: Clause | None) -> Clause:
    text = normalised[start:end]
    contrastive = bool(_CONTRAST_OPENING.match(text) or _INSTEAD.search(text))
    # "but the bank app is down so I'll try again on Monday": what follows a contrast with "so" is its end.
    if previous is not None and previous.contrastive and text.startswith("so "):
        contrastive = True
    return Clause(start=start, end=end, text=text, contrastive=contrastive)


def clause_at(clauses: list[Clause], position: int) -> Clause | None:
    """The clause that holds `position`, if any."""
    for clause in clauses:
        if clause.start <= position < clause.end:
            return clause
    return None
