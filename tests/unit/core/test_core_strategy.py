"""Client configuration, scoring, segments and champion/challenger assignment."""

from collections import Counter
from pathlib import Path

import pytest

from rapport.models.enums import Segment
from rapport.strategy.config import ClientConfigError, load_client_config
from rapport.strategy.scoring import MonthBehaviour, assign_segment, assign_variant, score_account

CLIENTS = Path(__file__).resolve().parents[3] / "clients"


def test_every_example_client_is_valid():
    for path in CLIENTS.glob("*.toml"):
        config = load_client_config(path)
        assert config.campaigns and config.strategy.treatments


def test_a_bad_client_file_lists_every_problem(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text('client_id = "Bad Id"\ndisplay_name = "x"\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(ClientConfigError) as error:
        load_client_config(path)
    message = str(error.value)
    assert "client_id" in message and "timezone" in message and "strategy" in message


def test_a_misspelt_template_is_refused_when_the_client_file_is_read(tmp_path: Path):
    # Given the example client with one treatment naming a template the catalogue lacks
    text = (CLIENTS / "acme-za.toml").read_text()
    assert text.count('templates = ["first_notice", "reminder"]') == 1
    path = tmp_path / "typo.toml"
    path.write_text(text.replace('templates = ["first_notice", "reminder"]', 'templates = ["first_notice", "remider"]'))
    # When it is read / Then it is refused, naming the template and the ones that exist
    with pytest.raises(ClientConfigError) as error:
        load_client_config(path)
    assert "unknown template(s) remider" in str(error.value) and "final_reminder" in str(error.value)


def test_a_variant_overrides_only_what_it_names():
    config = load_client_config(CLIENTS / "acme-za.toml")
    champion = config.treatment(Segment.NEEDS_HELP, "champion")
    challenger = config.treatment(Segment.NEEDS_HELP, "whatsapp-first")
    assert challenger.channels[0].value == "whatsapp" and champion.channels[0].value == "sms"
    assert challenger.tone == champion.tone and challenger.reply_timeout == champion.reply_timeout


def test_variants_are_assigned_deterministically_and_in_proportion():
    config = load_client_config(CLIENTS / "acme-za.toml")
    variants = config.strategy.variants
    assigned = Counter(assign_variant(variants, f"ACC-{i:06d}", "acme-za") for i in range(5000))
    assert assign_variant(variants, "ACC-000001", "acme-za") == assign_variant(variants, "ACC-000001", "acme-za")
    assert 0.17 < assigned["whatsapp-first"] / 5000 < 0.23


def test_worse_behaviour_scores_lower_and_gives_reasons():
    good = [MonthBehaviour(-1, 10_000, 10_000)] * 6
    bad = [MonthBehaviour(3, 10_000, 0)] * 6
    good_score = score_account(good, 10_000, 100_000, 0)
    bad_score = score_account(bad, 90_000, 100_000, 90)
    assert bad_score.points < good_score.points
    assert "R01_DAYS_PAST_DUE" in bad_score.reason_codes and bad_score.months_late == 6


def test_segments_follow_the_first_matching_rule():
    config = load_client_config(CLIENTS / "acme-za.toml")
    rules, default = config.strategy.segment_rules, config.strategy.default_segment
    fresh = score_account([MonthBehaviour(1, 1000, 900)] + [MonthBehaviour(-1, 1000, 1000)] * 5, 1000, 100_000, 30)
    assert assign_segment(rules, default, 30, 1000, fresh) is Segment.SELF_CURE
    hopeless = score_account([MonthBehaviour(4, 90_000, 0)] * 6, 90_000, 50_000, 120)
    assert assign_segment(rules, default, 120, 90_000, hopeless) is Segment.WONT_PAY
