"""Which channel to try first for a debtor: stated preference, then observed engagement.

Engagement per channel is scored as the mean of a Beta posterior over "this message got a response"
(a reply, a payment, or half of one for a link opened), with a prior whose mean follows the client's
default order and whose weight is ``PRIOR_STRENGTH`` pseudo-messages. With little evidence the prior
dominates and the default order stands; a channel earns its way up, or loses its place, only after a
number of messages comparable to that weight. Pure and deterministic: the same inputs always give
the same order, and ties keep the default order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from rapport.models.enums import Channel

__all__ = [
    "PRIOR_STRENGTH",
    "ChannelStats",
    "engagement_score",
    "has_hard_failure",
    "prior_mean",
    "rank_channels",
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
