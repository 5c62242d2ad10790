"""Skipping a rule whose words are not in the reply, before its regular expression runs.

The analyser runs about a hundred regular expressions over every reply, and most of them cannot
match: the reply has none of the words they look for. Python's `re` still walks the whole text
for each one, which is what makes long, email-length replies slow. For every pattern we work out,
once, a set of literal strings of which any match must contain at least one ("instalment",
"paaiement", "split" for a pattern that lists those), and try the pattern only when one of them is
in the text. A substring test is many times cheaper than a failed search.

The set is derived from the pattern's parse tree, so it is exact for what it covers: a literal run
in a sequence is required, a group requires what its content requires, an alternation requires one
of what its branches require, and anything the derivation cannot vouch for (a character class, an
optional part, a case-insensitive pattern) requires nothing, in which case the pattern always runs.

NOTE: the parse tree comes from `re._parser`, which is private to CPython (present from 3.11 to
3.14). If a future Python drops or changes it, `required_literals` returns None for every pattern
and the analyser runs every rule, slower but with the same answers.
"""

from __future__ import annotations

import re
from typing import Any

try:
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:
    _sre = _sre_parse = None

Literals = frozenset[str]


def _sequence(items: Any) -> Literals | None:
    """What a sequence of parsed items requires: the most selective of what any one item requires."""
    options: list[Literals] = []
    run: list[str] = []
    for op, argument in items:
        if op is _sre.LITERAL:
            run.append(chr(argument))
            continue
        if run:
            options.append(frozenset(["".join(run)]))
            run = []
        required = _item(op, argument)
        if required is not None:
            options.append(required)
    if run:
        options.append(frozenset(["".join(run)]))
    if not options:
        return None
    return max(options, key=lambda option: (min(len(text) for text in option), -len(option)))


def _item(op: Any, argument: Any) -> Literals | None:
    if op is _sre.SUBPATTERN:
        _group, add_flags, _del_flags, content = argument
        return None if add_flags & re.IGNORECASE else _sequence(content)
    if op is _sre.BRANCH:
        branches = [_sequence(branch) for branch in argument[1]]
        if any(branch is None for branch in branches):
            return None
        return frozenset().union(*branches)
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
        minimum, _maximum, content = argument
        return _sequence(content) if minimum >= 1 else None
    return None


def required_literals(pattern: re.Pattern[str]) -> Literals | None:
    """Strings of which every match of `pattern` contains one, or None when nothing can be said."""
    if _sre_parse is None or pattern.flags & re.IGNORECASE:
        return None
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
    except (re.error, AttributeError, TypeError, ValueError):
        # The parser is private; any surprise from it only means the pattern always runs.
        return None
    literals = _sequence(parsed)
    if literals is None or any(not text for text in literals):
        return None
    return literals


# A prefix of a required string is required too; testing short prefixes, with duplicates merged,
# keeps the test to a few substring searches while still ruling out most patterns.
_PREFIX = 5


class Prefilter:
    """`may_match(text)` is False only when `pattern` certainly does not match `text`."""

    __slots__ = ("literals",)

    def __init__(self, pattern: re.Pattern[str]) -> None:
        literals = required_literals(pattern)
        self.literals = None if literals is None else tuple(sorted({text[:_PREFIX] for text in literals}))

    def may_match(self, text: str) -> bool:
        literals = self.literals
        return literals is None or any(map(text.__contains__, literals))
