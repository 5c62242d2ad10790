"""The main job on a slice of the real portfolio: the same code path as ``make run``, one process.

The figures of a full run are printed by ``make run``; this test checks that a run holds together:
every journey it starts finishes, every channel sends, providers report on what was sent, debtors
answer on the channel they were written to, and the simulated debtors raised no error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rapport_local.main import run

pytestmark = pytest.mark.integration

CHANNELS = {"email", "sms", "whatsapp"}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("run") / "report.json"
    assert run(["--limit", "400", "--workers", "1", "--reply-timeout", "6", "--report", str(path)]) == 0
    return json.loads(Path(path).read_text())


def test_every_journey_started_finishes_and_a_repeat_run_starts_none(report):
    # Every account in arrears gets one journey from the campaign; replies may start more, and the run
    # waits for those too
    journeys = report["journeys"]
    assert journeys["started_by"]["weekday-arrears"] == report["portfolio"]["in_arrears"] > 0
    assert journeys["finished"] == journeys["started"] == sum(journeys["started_by"].values())
    assert "unfinished" not in journeys["by_outcome"]
    assert journeys["repeat_run_started"] == 0
    assert report["simulator_errors"] == []


def test_messages_deliveries_and_replies_are_reported_per_channel(report):
    messages = report["messages"]
    # Every channel sends, and providers report on nearly every message (the last few of the run may
    # still be on their way when the report is read)
    assert set(messages["sent_by_channel"]) == CHANNELS
    for channel in CHANNELS:
        reported = messages["deliveries_by_channel"][channel]
        assert sum(reported.values()) == messages["sent_by_channel"][channel]
        assert reported["delivered"] >= 0.9 * messages["sent_by_channel"][channel]
        assert reported.get("no_report", 0) <= 3
    # Every message that could not be sent is counted by channel and reason, and no send was left claimed
    # but unfinished
    for channel, reasons in messages["failed_to_send_by_channel"].items():
        assert channel in CHANNELS | {"push"} and "still_sending" not in reasons, (channel, reasons)
    # And debtors answer where they were written to, so replies arrive on more than one channel
    assert len(messages["replies_by_channel"]) >= 2
    assert sum(messages["replies_by_channel"].values()) == report["replies"]["received"] > 0


def test_money_is_reported_by_route_and_promises_by_verdict(report):
    payments, promises = report["payments"], report["promises"]
    # Money collected is the sum of its routes, and the debtors' payments reached the accounts
    assert payments["payments_applied"] > 0
    assert set(payments["collected_by_route"]) <= {"link", "promise", "instalment", "settlement"}
    assert sum(payments["collected_by_route"].values()) == pytest.approx(payments["collected"], abs=0.05)
    # Every promise made has one status, and the verdicts are counted from them
    assert promises["made"] == sum(promises["by_status"].values()) > 0
    for verdict in ("kept", "partly_kept", "broken"):
        assert promises[verdict] == promises["by_status"].get(verdict, 0)
    # A payment the webhook answered with a 5xx is delivered again, as rails do, and none is given up on
    assert not [action for action in report["simulated_debtors"] if action.startswith("webhook_refused_5")]


def test_every_reply_is_analysed_or_the_report_says_why_not(report):
    # A reply without analysis is accounted for by its reason, and no journey leaves a reply it was given
    # unread: only opt-outs honoured on receipt and replies a person reads go without
    replies = report["replies"]
    not_analysed = replies["not_analysed_by_reason"]
    assert sum(not_analysed.values()) == replies["by_intent"].get("not_analysed", 0)
    assert set(not_analysed) <= {
        "opt_out_honoured_on_receipt", "without_words", "journey_busy_so_queued_for_a_person"
    }, not_analysed


def test_the_schedule_tells_how_late_its_most_overdue_reaction_is():
    from rapport_local.debtors import _Schedule

    # Given a schedule with no thread to run anything
    schedule = _Schedule(workers=0)
    assert schedule.overdue_seconds() == 0.0
    # When one reaction is due in a minute, Then nothing is late
    schedule.at(60, lambda: None)
    assert schedule.overdue_seconds() == 0.0
    # When another fell due two seconds ago, Then the schedule is two seconds behind
    schedule.at(-2, lambda: None)
    assert 2.0 <= schedule.overdue_seconds() < 3.0


def test_no_journey_starts_while_the_debtors_are_behind():
    from rapport_local.main import _wait_until_debtors_keep_up

    class Debtors:
        def __init__(self, behind: list[float]) -> None:
            self.behind = behind
            self.asked = 0

        def behind_seconds(self) -> float:
            self.asked += 1
            return self.behind[min(self.asked, len(self.behind)) - 1]

    # Given debtors 5 s, then 3 s, then half a second behind: the campaign waits until they keep up
    catching_up = Debtors([5.0, 3.0, 0.5])
    assert _wait_until_debtors_keep_up(catching_up, timeout=30) is True
    assert catching_up.asked == 3
    # Given debtors that never catch up: the wait gives up when its time is over
    assert _wait_until_debtors_keep_up(Debtors([9.0]), timeout=0.5) is False


@pytest.mark.parametrize(
    "arguments", [["--wave", "0"], ["--workers", "-1"], ["--limit", "x"], ["--reply-timeout", "0"]]
)
def test_a_count_that_is_not_1_or_more_is_refused_before_anything_runs(arguments, capsys):
    # Given a wave of 0 journeys in flight (which would wait for ever), a negative worker count or a word
    with pytest.raises(SystemExit) as refused:
        run(arguments)
    # Then the command stops at once with a usage error naming the option
    assert refused.value.code == 2
    assert arguments[0] in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--client", "--replies"])
def test_a_missing_client_or_replies_file_stops_the_run_before_it_starts(option, tmp_path, capsys):
    # Given a client file or a file of replies that does not exist
    missing = tmp_path / "missing.txt"
    # When the main job is asked to run with it, with one worker or two
    for workers in ("1", "2"):
        code = run([option, str(missing), "--limit", "5", "--workers", workers])
        # Then it stops with exit code 2 and one line naming the file, before any cloud is built
        assert code == 2
        assert str(missing) in capsys.readouterr().err


def test_a_simulator_error_names_the_line_of_ours_it_passed_through():
    from rapport_local.debtors import _where

    # Given an error raised inside the standard library, called from this file
    try:
        json.loads("not json")
    except ValueError as error:
        # Then it is placed at this file's line, not the library's
        assert _where(error).startswith("test_local_run.py:")
