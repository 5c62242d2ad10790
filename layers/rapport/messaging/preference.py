"""Which channel to try first for a debtor: stated preference, then observed engagement.

Engagement per channel is scored as the mean of a Beta posterior over "this message got a response"
(a reply, a payment, or half of one for a link opened), with a prior whose mean follows the client's
default order and whose weight is ``PRIOR_STRENGTH`` pseudo-messages. With little evidence the prior
dominates and the default order stands; a channel earns its way up, or loses its place, only after a
number of messages comparable to that weight. Pure and deterministic: the same inputs always give
the same order, and ties keep the default order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from rapport.messaging.optout import normalise_reply
from rapport.models.enums import Channel

__all__ = [
    "PRIOR_STRENGTH",
    "ChannelRequest",
    "ChannelStats",
    "engagement_score",
    "has_hard_failure",
    "prior_mean",
    "rank_channels",
    "requested_channel",
]

# Pseudo-messages the default order is worth. With the means below, seven unanswered messages on the
# first channel let the second overtake it, and so do three responses to four messages on the second.
PRIOR_STRENGTH = 30.0
# Prior engagement rate of the first channel in the default order, the step down per position, and
# the floor for long lists.
PRIOR_TOP_MEAN = 0.30
PRIOR_STEP = 0.05
PRIOR_FLOOR = 0.02
# A link opened shows attention but less than a reply or a payment.
LINK_OPEN_WEIGHT = 0.5


class ChannelStats(BaseModel):
    """Counts for one debtor on one channel, since the address was last changed.

    ``bounced`` counts hard failures (permanent bounce, invalid number, not on WhatsApp); ``failed``
    counts failures that may clear.
    """

    model_config = ConfigDict(frozen=True)

    sent: int = Field(default=0, ge=0)
    delivered: int = Field(default=0, ge=0)
    failed: int = Field(default=0, ge=0)
    bounced: int = Field(default=0, ge=0)
    replies: int = Field(default=0, ge=0)
    link_opens: int = Field(default=0, ge=0)
    payments: int = Field(default=0, ge=0)


def prior_mean(position: int) -> float:
    """Prior engagement rate for the channel at ``position`` (0-based) in the default order."""
    return max(PRIOR_FLOOR, PRIOR_TOP_MEAN - PRIOR_STEP * position)


def has_hard_failure(stats: ChannelStats) -> bool:
    return stats.bounced > 0


def engagement_score(stats: ChannelStats, mean: float, strength: float = PRIOR_STRENGTH) -> float:
    """Posterior mean of Beta(strength * mean + s, strength * (1 - mean) + n - s).

    ``n`` counts messages sent (a failed send is a message that got no response) and ``s`` the
    weighted responses; a debtor who writes first on a channel we never used still counts, because
    ``n`` is never less than ``s``.
    """
    successes = stats.replies + stats.payments + LINK_OPEN_WEIGHT * stats.link_opens
    trials = max(stats.sent, stats.delivered, successes)
    alpha = strength * mean + successes
    beta = strength * (1.0 - mean) + (trials - successes)
    return alpha / (alpha + beta)


def _candidates(
    stats: Mapping[Channel, ChannelStats],
    stated_preference: Channel | None,
    default_order: Iterable[Channel],
) -> list[Channel]:
    ordered: list[Channel] = []
    extra = sorted((channel for channel in stats if channel not in default_order), key=list(Channel).index)
    tail = [stated_preference] if stated_preference is not None else []
    for channel in [*default_order, *extra, *tail]:
        if channel not in ordered:
            ordered.append(channel)
    return ordered


def rank_channels(
    stats: Mapping[Channel, ChannelStats],
    stated_preference: Channel | None,
    unavailable: set[Channel],
    default_order: list[Channel],
) -> list[Channel]:
    """Available channels, best first.

    1. A stated preference comes first unless it is unavailable (callers put suppressed, opted-out
       and unconfigured channels in ``unavailable``; they never appear in the result).
    2. The others by engagement score, channels with a hard failure after all the rest.
    3. Ties, and channels without any evidence, keep the default order; channels not in the default
       order but seen in ``stats`` follow it in the order of the Channel enum.
    """
    everything = _candidates(stats, stated_preference, default_order)
    candidates = [channel for channel in everything if channel not in unavailable]
    empty = ChannelStats()

    def sort_key(item: tuple[int, Channel]) -> tuple[bool, bool, float, int]:
        position, channel = item
        channel_stats = stats.get(channel, empty)
        return (
            channel != stated_preference,
            has_hard_failure(channel_stats),
            -engagement_score(channel_stats, prior_mean(position)),
            position,
        )

    return [channel for _, channel in sorted(enumerate(candidates), key=sort_key)]


# --- The channel a reply asks for -----------------------------------------------------------------

# The words for each channel, after ``normalise_reply`` (lower case, apostrophes dropped, hyphens inside
# words kept): English, Afrikaans ("e-pos", "sms'e") and isiZulu / isiXhosa ("i-imeyili", "umyalezo").
_CHANNEL_WORDS: dict[Channel, str] = {
    Channel.EMAIL: r"(?:e-?mails?|e-?pos(?:se)?|i?-?i?meyili|imeyli)",
    Channel.SMS: r"(?:sms(?:es|e)?|texts?|text messages?|smsies)",
    Channel.WHATSAPP: r"(?:whats ?app?s?|watsapp?s?)",
}
# The same words used as verbs ("email me", "text me", "whatsapp me", "e-pos my").
_CHANNEL_VERBS: dict[Channel, str] = {
    Channel.EMAIL: r"(?:e-?mail|e-?pos)",
    Channel.SMS: r"(?:sms|text)",
    Channel.WHATSAPP: r"(?:whats ?app?|watsapp?)",
}
_ME = r"(?:me|us|my|vir my)"
_INSTEAD = (
    r"(?:instead|rather|only|please|pls|asb|asseblief|eerder|liewer|"
    r"from now on|going forward|in future)"
)
# "email me instead", "please email me", "e-pos my asseblief": the verb and "me" at the end of the reply or
# before a word that says the point is the channel.
_WANT_VERB = r"\b{verb} {me}(?= {instead}\b|$)"
# "contact me by email", "send it via WhatsApp", "stuur dit per e-pos", "kontak my op whatsapp".
_WANT_BY = (
    r"\b(?:contact|reach|write to|message|send|communicate with|correspond with|kontak|stuur|skryf aan)"
    r"(?: (?:me|us|it|them|everything|that|my|vir my|dit))?(?: (?:rather|eerder|liewer|only|slegs|net))?"
    r" (?:by|via|on|through|over|per|op|deur|oor) {word}\b"
)
# "WhatsApp only", "only by email", "slegs per e-pos", "nge-imeyili kuphela", "email is better".
_WANT_ONLY = (
    r"\b{word} (?:only|slegs|alleen|kuphela|instead|rather|eerder|liewer|is (?:better|best|easier|fine)|"
    r"works (?:better|best))\b|"
    r"\b(?:only|slegs|net|alleen) (?:(?:by|via|on|through|in|per|op|deur) )?{word}\b"
)
# "I prefer email", "use WhatsApp", "send it to my email", "ek verkies e-pos", "nge-email" (isiZulu: by
# email).
_WANT_OTHER = (
    r"\b(?:prefer|verkies|use|try|gebruik|rather) {word}\b|"
    r"\b(?:send|write|stuur)(?: it| them| everything| dit| alles)? (?:to|na) (?:my|me) {word}\b|"
    r"\bnge-?{word}\b"
)
# "no more SMS", "stop texting me", "don't SMS me", "not on WhatsApp", "geen sms'e meer nie".
_REFUSE = (
    r"\bno (?:more )?{word}\b|"
    r"\b(?:stop|quit) (?:sending (?:me )?(?:any |the |these |those |your )?)?{word}\b|"
    r"\b(?:stop|quit|dont|do not|never|moenie) {verb}(?:ing)? (?:me|us|my)\b|"
    r"\bnot (?:on|by|via|through|over|per|op) {word}\b|"
    r"\b(?:geen|nie meer) {word}\b|\bhou op (?:met )?(?:om )?(?:my )?(?:te )?{verb}\b"
)
# "not on this number", "not here", "nie op hierdie nommer nie": the channel the reply came on.
_REFUSE_HERE = re.compile(
    r"\bnot (?:here|on here|(?:on|to|at) (?:this|my|that) (?:number|phone|cell(?:phone)?|address|inbox|"
    r"whatsapp|line))\b|\bnie (?:hier|op (?:hierdie|die) (?:nommer|foon|selfoon|adres))\b|"
    # "don't message me on this number", "moenie my op hierdie nommer sms nie"
    r"\b(?:dont|do not|never|stop|moenie) (?:[\w-]+ ){1,3}?(?:on|to|at|op) (?:this|hierdie) "
    r"(?:number|phone|cell(?:phone)?|nommer|foon|selfoon)\b"
)


def _patterns(template: str) -> dict[Channel, re.Pattern[str]]:
    patterns = {}
    for channel, word in _CHANNEL_WORDS.items():
        filled = template.format(word=word, verb=_CHANNEL_VERBS[channel], me=_ME, instead=_INSTEAD)
        patterns[channel] = re.compile(filled)
    return patterns


_WANTED = [_patterns(template) for template in (_WANT_VERB, _WANT_BY, _WANT_ONLY, _WANT_OTHER)]
_REFUSED = _patterns(_REFUSE)
_ONLY = re.compile(r"\b(?:only|slegs|alleen|kuphela)\b")


class ChannelRequest(BaseModel):
    """What a reply says about the channels we use: the one it asks for, and the ones it refuses.

    ``refused_here`` is a refusal of the channel the reply came on ("not on this number").
    ``only`` marks "WhatsApp only": every other channel is refused with it.
    """

    model_config = ConfigDict(frozen=True)

    wanted: Channel | None = None
    refused: frozenset[Channel] = frozenset()
    refused_here: bool = False
    only: bool = False

    def refused_channels(self, arrived_on: Channel, channels: Iterable[Channel]) -> frozenset[Channel]:
        """The channels to stop, for a reply that came on ``arrived_on``; never the one asked for."""
        refused = set(self.refused)
        if self.refused_here:
            refused.add(arrived_on)
        if self.only and self.wanted is not None:
            refused.update(channels)
        refused.discard(self.wanted)
        return frozenset(refused)


def requested_channel(text: str) -> ChannelRequest:
    """The channel a reply asks to be contacted on, and the channels it refuses, from its words.

    Separate from the reply analysis on purpose: the analysis says *what* the debtor wants (an opt-out,
    a promise...), this says *where*. "No more SMS please, email me instead" asks for email and refuses
    SMS; "WhatsApp only please" asks for WhatsApp alone; "please email me" asks for email and refuses
    nothing. A channel both asked for and refused ("don't SMS me, SMS is fine") counts as asked for.
    Push and calls are never named here: a debtor asks for messages.

    NOTE: hand-written wording in English, Afrikaans and a little isiZulu / isiXhosa ("nge-imeyili",
    "kuphela"); Sesotho and Setswana wording is not read yet and leaves the request empty, which keeps
    the narrower reading out (an opt-out then covers every channel, the safe side).
    """
    normalised = normalise_reply(text)
    if not normalised:
        return ChannelRequest()
    found: list[tuple[int, Channel]] = []
    for patterns in _WANTED:
        for channel, pattern in patterns.items():
            match = pattern.search(normalised)
            if match and not _negated(normalised, match.start()):
                found.append((match.start(), channel))
    # The last channel asked for wins ("not SMS, or WhatsApp... actually email me").
    wanted = max(found)[1] if found else None
    refused = frozenset(channel for channel, refusal in _REFUSED.items() if refusal.search(normalised))
    refused -= {wanted}
    only = wanted is not None and bool(_ONLY.search(normalised))
    here = bool(_REFUSE_HERE.search(normalised))
    return ChannelRequest(wanted=wanted, refused=refused, refused_here=here, only=only)


# "don't email me", "never WhatsApp me", "stop emailing", "if you email me": no request for the channel.
_NEGATED_RIGHT_AFTER = {"dont", "not", "never", "moenie", "stop", "quit", "no"}
_NEGATED_A_WORD_LATER = {"dont", "not", "never", "moenie", "if", "unless"}


def _negated(normalised: str, start: int) -> bool:
    before = normalised[:start].split()
    right_after = bool(before) and before[-1] in _NEGATED_RIGHT_AFTER
    return right_after or (len(before) > 1 and before[-2] in _NEGATED_A_WORD_LATER)
