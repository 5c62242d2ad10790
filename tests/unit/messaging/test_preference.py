"""Channel ranking: stated preference, Beta-posterior engagement, hard failures, and its properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.messaging.preference import (
    PRIOR_STRENGTH,
    ChannelRequest,
    ChannelStats,
    engagement_score,
    prior_mean,
    rank_channels,
    requested_channel,
)
from rapport.models.enums import Channel

SMS, WHATSAPP, EMAIL, PUSH, CALL = Channel.SMS, Channel.WHATSAPP, Channel.EMAIL, Channel.PUSH, Channel.CALL
DEFAULT = [SMS, WHATSAPP, EMAIL, PUSH]


def test_without_evidence_the_default_order_stands() -> None:
    assert rank_channels({}, None, set(), DEFAULT) == DEFAULT


def test_thin_evidence_keeps_the_default_order() -> None:
    # Given two unanswered SMS, one WhatsApp reply to a single message and one email link opened
    stats = {
        SMS: ChannelStats(sent=2, delivered=2),
        WHATSAPP: ChannelStats(sent=1, delivered=1, replies=1),
        EMAIL: ChannelStats(sent=1, delivered=1, link_opens=1),
    }
    # Then the client's order still holds
    assert rank_channels(stats, None, set(), DEFAULT) == DEFAULT


def test_repeated_silence_on_the_first_channel_lets_the_next_overtake() -> None:
    # Given seven unanswered SMS
    stats = {SMS: ChannelStats(sent=7, delivered=7)}
    assert rank_channels(stats, None, set(), DEFAULT)[:2] == [WHATSAPP, SMS]


def test_engagement_moves_a_channel_up() -> None:
    # Given a debtor who answers emails and pays through their links
    stats = {
        SMS: ChannelStats(sent=4, delivered=4),
        EMAIL: ChannelStats(sent=4, delivered=4, replies=2, link_opens=2, payments=1),
    }
    assert rank_channels(stats, None, set(), DEFAULT)[0] == EMAIL


def test_a_stated_preference_comes_first() -> None:
    stats = {SMS: ChannelStats(sent=10, delivered=10, replies=9)}
    assert rank_channels(stats, EMAIL, set(), DEFAULT)[0] == EMAIL


def test_an_unavailable_stated_preference_is_ignored() -> None:
    ranked = rank_channels({}, WHATSAPP, {WHATSAPP}, DEFAULT)
    assert ranked == [SMS, EMAIL, PUSH]


def test_hard_failures_drop_to_the_end() -> None:
    # Given an SMS number that bounced although it used to engage
    stats = {SMS: ChannelStats(sent=5, delivered=4, bounced=1, replies=4)}
    assert rank_channels(stats, None, set(), DEFAULT) == [WHATSAPP, EMAIL, PUSH, SMS]


def test_channels_outside_the_default_order_follow_it() -> None:
    # Given evidence on calls, which the client's default order does not list
    stats = {CALL: ChannelStats(sent=1)}
    assert rank_channels(stats, None, set(), [EMAIL, SMS]) == [EMAIL, SMS, CALL]


def test_score_is_the_prior_mean_without_evidence_and_moves_with_it() -> None:
    assert engagement_score(ChannelStats(), 0.3) == 0.3
    assert engagement_score(ChannelStats(sent=10, replies=10), 0.3) > 0.3
    assert engagement_score(ChannelStats(sent=10), 0.3) < 0.3
    # Posterior mean of Beta(k*m + s, k*(1-m) + n - s)
    k = PRIOR_STRENGTH
    assert engagement_score(ChannelStats(sent=10, replies=4), 0.25) == (k * 0.25 + 4) / (k + 10)


def test_prior_means_decrease_along_the_default_order() -> None:
    means = [prior_mean(position) for position in range(10)]
    assert means == sorted(means, reverse=True)
    assert min(means) > 0


# --- properties ---------------------------------------------------------------------------------

channels = st.sampled_from(list(Channel))
counts = st.integers(min_value=0, max_value=60)
channel_stats = st.builds(
    ChannelStats,
    sent=counts,
    delivered=counts,
    failed=counts,
    bounced=st.integers(min_value=0, max_value=2),
    replies=counts,
    link_opens=counts,
    payments=st.integers(min_value=0, max_value=5),
)
stats_maps = st.dictionaries(channels, channel_stats, max_size=len(Channel))
default_orders = st.lists(channels, unique=True, min_size=1)
unavailable_sets = st.sets(channels)
preferences = st.none() | channels


def available(stats, stated, unavailable, default_order) -> set[Channel]:
    seen = set(default_order) | set(stats) | ({stated} if stated else set())
    return seen - unavailable


@given(stats_maps, preferences, unavailable_sets, default_orders)
def test_output_is_a_permutation_of_the_available_channels(stats, stated, unavailable, default_order) -> None:
    ranked = rank_channels(stats, stated, unavailable, default_order)
    assert len(ranked) == len(set(ranked))
    assert set(ranked) == available(stats, stated, unavailable, default_order)


@given(stats_maps, preferences, unavailable_sets, default_orders)
def test_unavailable_channels_never_appear(stats, stated, unavailable, default_order) -> None:
    assert not set(rank_channels(stats, stated, unavailable, default_order)) & unavailable


@given(stats_maps, channels, unavailable_sets, default_orders)
def test_a_stated_available_preference_is_always_first(stats, stated, unavailable, default_order) -> None:
    unavailable = unavailable - {stated}
    assert rank_channels(stats, stated, unavailable, default_order)[0] == stated


@given(stats_maps, preferences, unavailable_sets, default_orders)
def test_ranking_is_deterministic(stats, stated, unavailable, default_order) -> None:
    first = rank_channels(stats, stated, unavailable, default_order)
    again = rank_channels(dict(reversed(list(stats.items()))), stated, set(unavailable), list(default_order))
    assert first == again


@given(stats_maps, unavailable_sets, default_orders)
def test_hard_failed_channels_come_after_all_others(stats, unavailable, default_order) -> None:
    ranked = rank_channels(stats, None, unavailable, default_order)
    failed = [stats.get(channel, ChannelStats()).bounced > 0 for channel in ranked]
    assert failed == sorted(failed)


# --- The channel a reply asks for -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "wanted", "refused", "here", "only"),
    [
        ("No more SMS please, email me instead", EMAIL, {SMS}, False, False),
        ("WhatsApp only please", WHATSAPP, set(), False, True),
        ("please email me", EMAIL, set(), False, False),
        ("Contact me by email", EMAIL, set(), False, False),
        ("I prefer email", EMAIL, set(), False, False),
        ("Send it to my email", EMAIL, set(), False, False),
        ("stop texting me, whatsapp me instead", WHATSAPP, {SMS}, False, False),
        ("Please don't message me on this number, email me instead", EMAIL, set(), True, False),
        ("not on this number please, use whatsapp", WHATSAPP, set(), True, False),
        ("text me", SMS, set(), False, False),
        # Afrikaans
        ("Geen sms'e meer nie, e-pos my asseblief", EMAIL, {SMS}, False, False),
        ("Stuur dit eerder per e-pos asseblief", EMAIL, set(), False, False),
        ("Slegs WhatsApp asseblief", WHATSAPP, set(), False, True),
        ("moenie my op hierdie nommer sms nie, e-pos my eerder", EMAIL, set(), True, False),
        # isiZulu: "please send me by email", "by email only"
        ("Ngicela ungithumelele nge-imeyili", EMAIL, set(), False, False),
        ("nge-email kuphela", EMAIL, set(), False, True),
    ],
)
def test_a_reply_that_asks_for_a_channel_names_it_and_what_it_refuses(text, wanted, refused, here, only):
    expected = ChannelRequest(wanted=wanted, refused=frozenset(refused), refused_here=here, only=only)
    assert requested_channel(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop contacting me",
        "I will pay on Friday",
        "can you email me the statement",  # a document asked for, not a channel
        "if you email me I will block you",
        "Only contact me in writing by mail",  # post, not email
        "o se ka wa nthomelela",  # Setswana "don't send me": not read, so no narrower reading
        "",
    ],
)
def test_a_reply_that_asks_for_no_channel_names_none(text):
    assert requested_channel(text).wanted is None


def test_a_refusal_without_a_channel_asked_for_is_kept_but_names_no_channel():
    request = requested_channel("Don't email me")
    assert request.wanted is None and request.refused == {EMAIL}


def test_the_channels_a_request_stops_never_include_the_one_it_asks_for():
    everything = [SMS, WHATSAPP, EMAIL, PUSH]
    assert requested_channel("No more SMS, email me instead").refused_channels(SMS, everything) == {SMS}
    # "not here" refuses the channel the reply came on
    assert requested_channel("not on this number, use whatsapp").refused_channels(SMS, everything) == {SMS}
    # "only" refuses every other channel
    assert requested_channel("WhatsApp only please").refused_channels(SMS, everything) == {SMS, EMAIL, PUSH}
    assert requested_channel("please email me").refused_channels(SMS, everything) == frozenset()
