"""Jurisdiction profiles carry the legal figures; client overrides may only tighten them."""

from datetime import time

import pytest
from pydantic import ValidationError

from rapport.compliance import (
    SOUTH_AFRICA,
    UNITED_KINGDOM,
    UNITED_STATES,
    ChannelLimit,
    ClientOverrides,
    ContactWindow,
    LooserThanLawError,
    apply_overrides,
    normalise_address,
    normalise_email,
    normalise_phone,
    profile_for,
)
from rapport.models.enums import Channel, Jurisdiction


def window(start: int, end: int) -> ContactWindow:
    return ContactWindow(start=time(start), end=time(end))


class TestLegalFigures:
    def test_south_africa(self):
        assert SOUTH_AFRICA.weekly_windows[0] == window(8, 20)
        assert SOUTH_AFRICA.weekly_windows[5] == window(9, 13)
        assert SOUTH_AFRICA.weekly_windows[6] is None
        assert SOUTH_AFRICA.closed_on_public_holidays
        assert SOUTH_AFRICA.call_rules is None

    def test_united_states(self):
        assert set(UNITED_STATES.weekly_windows) == {window(8, 21)}
        assert UNITED_STATES.call_rules is not None
        assert UNITED_STATES.call_rules.max_calls == 7
        assert UNITED_STATES.call_rules.quiet_days_after_conversation == 7
        assert UNITED_STATES.requires_opt_out_notice(Channel.SMS)
        assert UNITED_STATES.requires_opt_out_notice(Channel.EMAIL)
        assert not UNITED_STATES.requires_opt_out_notice(Channel.CALL)

    def test_united_kingdom(self):
        assert UNITED_KINGDOM.weekly_windows[:6] == (window(8, 21),) * 6
        assert UNITED_KINGDOM.weekly_windows[6] is None
        assert UNITED_KINGDOM.holiday_subdivision == "ENG"
        assert not UNITED_KINGDOM.requires_opt_out_notice(Channel.SMS)

    def test_south_africa_is_the_default_profile(self, make_request):
        assert make_request().resolved_profile == SOUTH_AFRICA
        assert profile_for(Jurisdiction.UK) is UNITED_KINGDOM


class TestOverrides:
    def test_a_narrower_window_and_lower_caps_apply(self):
        # Given a client that closes Saturdays, opens weekdays at 09:00 and sends one SMS a week
        overrides = ClientOverrides(
            weekly_windows=(window(9, 17),) * 5 + (None, None),
            caps={Channel.SMS: ChannelLimit(per_day=1, per_7_days=1)},
        )
        # When applied to South Africa
        profile = apply_overrides(SOUTH_AFRICA, overrides)
        # Then the stricter values are in force and the rest is unchanged
        assert profile.weekly_windows[5] is None
        assert profile.weekly_windows[0] == window(9, 17)
        assert profile.cap_for(Channel.SMS) == ChannelLimit(per_day=1, per_7_days=1)
        assert profile.cap_for(Channel.EMAIL) == SOUTH_AFRICA.cap_for(Channel.EMAIL)

    @pytest.mark.parametrize(
        ("overrides", "problem"),
        [
            (ClientOverrides(weekly_windows=(window(7, 20),) * 5 + (None, None)), "wider than"),
            (ClientOverrides(weekly_windows=(window(8, 20),) * 7), "Sunday is closed by law"),
            (ClientOverrides(closed_on_public_holidays=False), "public holidays"),
            (ClientOverrides(caps={Channel.SMS: ChannelLimit(per_day=4, per_7_days=7)}), "sms per_day"),
            (ClientOverrides(caps={Channel.SMS: ChannelLimit(per_day=1, per_7_days=None)}), "per_7_days"),
            (ClientOverrides(opt_out_notice_channels=frozenset()), "opt-out line"),
        ],
    )
    def test_anything_looser_than_the_law_is_refused(self, overrides, problem):
        with pytest.raises(LooserThanLawError) as raised:
            apply_overrides(SOUTH_AFRICA, overrides)
        assert any(problem in text for text in raised.value.problems)

    def test_a_looser_override_fails_the_request_too(self, make_request):
        with pytest.raises(ValidationError, match="looser than the law"):
            make_request(overrides=ClientOverrides(closed_on_public_holidays=False))

    def test_us_clients_may_drop_the_rolling_call_cap_but_not_the_daily_one(self):
        relaxed = apply_overrides(
            UNITED_STATES, ClientOverrides(caps={Channel.CALL: ChannelLimit(per_day=3, per_7_days=None)})
        )
        assert relaxed.cap_for(Channel.CALL).per_7_days is None
        with pytest.raises(LooserThanLawError):
            apply_overrides(UNITED_STATES, ClientOverrides(caps={Channel.CALL: ChannelLimit(per_day=None)}))

    def test_a_us_client_may_add_holiday_closure_and_opt_out_lines(self):
        profile = apply_overrides(
            UNITED_KINGDOM,
            ClientOverrides(opt_out_notice_channels=frozenset({Channel.SMS})),
        )
        assert profile.requires_opt_out_notice(Channel.SMS)

    def test_every_day_closed_is_not_a_profile(self):
        with pytest.raises(ValidationError):
            apply_overrides(SOUTH_AFRICA, ClientOverrides(weekly_windows=(None,) * 7))

    def test_window_must_start_before_it_ends(self):
        with pytest.raises(ValidationError):
            window(20, 8)


class TestAddresses:
    @pytest.mark.parametrize(
        "written",
        [
            "082 123 4567",
            "+27 82 123 4567",
            "0027821234567",
            "27821234567",
            "whatsapp:+27821234567",
            "(082) 123-4567",
        ],
    )
    def test_south_african_numbers(self, written):
        assert normalise_phone(written, "27") == "+27821234567"

    @pytest.mark.parametrize(
        "written", ["(212) 555-0100", "1-212-555-0100", "+1 212 555 0100", "tel:+12125550100"]
    )
    def test_north_american_numbers(self, written):
        assert normalise_phone(written, "1") == "+12125550100"

    def test_uk_number_with_bracketed_trunk_zero(self):
        assert normalise_phone("+44 (0)20 7946 0000", "44") == normalise_phone("020 7946 0000", "44")

    def test_email(self):
        assert normalise_email(" mailto:Thandi@Example.COM ") == "thandi@example.com"

    def test_by_channel(self):
        assert normalise_address(Channel.CALL, "082 123 4567", "27") == "+27821234567"
        assert normalise_address(Channel.PUSH, " device-token ", "27") == "device-token"
