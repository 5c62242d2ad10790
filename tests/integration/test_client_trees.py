"""Each example client's decision tree on moto's interpreter, through every Choice branch.

One test per client. It loads one debtor per scenario, starts their journeys the way the campaign
does (or, for a debtor who writes first, the way the inbound functions do for a reply that no
journey waits for), and plays each debtor concurrently (pays, replies on the channel of the message they got,
lets a message bounce, stays silent) through the real handlers. Then it checks, from the
executions' histories and the records:

* every rule and every Default of every Choice state of the client's tree was taken (a Default no
  event of the contract can reach is excluded only after that is shown from the contract);
* every journey ended as the scenario expects, under the client's own tree;
* every result the handlers returned, and every event that resumed a journey, is what the journey
  contract (``rapport.journey.contract``) declares;
* every message sent has a complete explanation (``rapport.journey.explain``), and the guardrails it
  passed, like every deferral and refusal, are the client's jurisdiction's: for the UK client,
  CONC 7's 08:00 to 21:00 window, closed Sundays and English bank holidays.

A last journey starts on a day the client's jurisdiction closes, so the first contact is deferred
to the first allowed moment in the debtor's time zone.

The reply analyser is a scripted fake of our ``ReplyAnalyser`` port: each scenario needs one exact
reading of a reply to reach its branch, and the analyser's accuracy is tested elsewhere. Everything
else is the real thing: handlers, inbound and webhook functions, guardrails, the tree's ASL.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from journey_helpers import account, load

from rapport.analysis.models import ReplyAnalysis
from rapport.clock import SimulatedClock
from rapport.journey.campaign import CampaignRun, _start_journey
from rapport.journey.contract import CALLBACK_INVOKE_OUTPUT, STEPS, JourneyResponse
from rapport.journey.explain import explain_account
from rapport.journey.resume import REPLY_CAMPAIGN
from rapport.models.enums import Channel, Intent, Sentiment
from rapport.store.models import AccountModel, AuditModel, ContactModel, HoldRecord, JourneyModel, PromiseModel
from rapport_infra.asl import route
from rapport_infra.catalogue import CLIENTS_DIR
from rapport_infra.trees import load_journey_definition
from rapport_local.cloud import REGION, LocalCloud
from rapport_local.conversations import deliver_event, reply_by_email, reply_by_whatsapp
from rapport_local.payments_page import accept_latest_offer, enable_payments

pytestmark = pytest.mark.integration

BALANCE = 250_000
INTERACTIVE_TIMEOUT = 20  # seconds a journey waits for a debtor who will answer
SILENT_TIMEOUT = 3  # seconds a journey waits for a debtor who will not


@dataclass(frozen=True)
class Expected:
    """What the client's jurisdiction must show: its rules' prefix, window, and a closed moment."""

    start: datetime  # in-window: the scenarios run from here
    closed: datetime  # a moment the jurisdiction closes: the last journey starts here
    deferral_rule: str
    first_allowed_local: str
    prefix: str
    window: str
    timezone: str
    code: str
    opt_out_notice: bool
    closed_reason: str = ""


def _at(zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone))


CLIENTS = {
    "acme-za": Expected(
        start=_at("Africa/Johannesburg", 2026, 12, 7, 9, 0),
        closed=_at("Africa/Johannesburg", 2026, 12, 16, 9, 0),  # Day of Reconciliation
        deferral_rule="za.cpa.window.public_holiday",
        first_allowed_local="2026-12-17T08:00+02:00",
        prefix="za.cpa",
        window="08:00 to 20:00",
        timezone="Africa/Johannesburg",
        code="ZA",
        opt_out_notice=True,
        closed_reason="Day of Reconciliation",
    ),
    "harbour-uk": Expected(
        start=_at("Europe/London", 2026, 12, 7, 10, 0),
        closed=_at("Europe/London", 2026, 12, 28, 10, 0),  # Boxing Day (substitute): an English bank holiday
        deferral_rule="uk.conc.window.public_holiday",
        first_allowed_local="2026-12-29T08:00+00:00",
        prefix="uk.conc",
        window="08:00 to 21:00",
        timezone="Europe/London",
        code="UK",
        opt_out_notice=False,
        closed_reason="Boxing Day",
    ),
    "meridian-us": Expected(
        start=_at("America/New_York", 2026, 12, 7, 10, 0),
        closed=_at("America/New_York", 2026, 12, 27, 7, 0),  # a Sunday, an hour before 08:00
        deferral_rule="us.regf.window.hours",
        first_allowed_local="2026-12-27T08:00-05:00",
        prefix="us.regf",
        window="08:00 to 21:00",
        timezone="America/New_York",
        code="US",
        opt_out_notice=True,
    ),
}
# Rule families that belong to no jurisdiction: caps, holds, opt-outs, the channel's own answers.
NEUTRAL_RULES = ("cap.", "hold.", "optout.", "channel.", "address.", "delivery.")
# A Default no event can reach when the contract's values of the variable all have their own rule.
CONTRACT_EXHAUSTED_DEFAULTS = {"RouteResponse": ("response", "kind")}


# -- the debtor's side -------------------------------------------------------------------------------

# Reply text -> (intent, vulnerable, amount offered in cents, promised in days).
SCRIPT: dict[str, tuple[Intent, bool, int | None, int | None]] = {
    "I lost my job and cannot feed my children": (Intent.HARDSHIP, True, None, None),
    "I dispute this amount, I never opened this account": (Intent.DISPUTE, False, None, None),
    "Please leave me alone about this": (Intent.OPT_OUT, False, None, None),
    "I will pay everything on Friday": (Intent.PROMISE_TO_PAY, False, None, 3),
    "Can I pay this off in instalments": (Intent.PAYMENT_PLAN_REQUEST, False, None, None),
    "I can only manage 10 a month": (Intent.PAYMENT_PLAN_REQUEST, False, 1_000, None),
    "I already paid this last week": (Intent.PAID_ALREADY, False, None, None),
    "I am not paying this": (Intent.REFUSAL, False, None, None),
    "How much do I owe exactly?": (Intent.BALANCE_QUERY, False, None, None),
    "You have the wrong number, I don't know this person": (Intent.WRONG_PERSON, False, None, None),
}


class ScriptedAnalyser:
    """Reads each reply the way its scenario needs (a fake of ``rapport.analysis.ReplyAnalyser``)."""

    def analyse(self, reply: Any) -> ReplyAnalysis:
        intent, vulnerable, amount, days = SCRIPT[reply.text]
        return ReplyAnalysis(
            reply_id=reply.reply_id,
            intent=intent,
            intent_confidence=0.99,
            sentiment=Sentiment.NEGATIVE if vulnerable else Sentiment.NEUTRAL,
            sentiment_scores={},
            promise_date=reply.received_at.date() + timedelta(days=days) if days else None,
            amount_cents=amount,
            vulnerable=vulnerable,
            vulnerability_reasons=["job_loss"] if vulnerable else [],
            language="en",
            redacted_text=reply.text,
            analyser="scripted-test",
        )

    def analyse_batch(self, replies: Any) -> list[ReplyAnalysis]:
        return [self.analyse(reply) for reply in replies]


class Waits:
    """When each journey parks on a callback task, so a debtor can act (as the helpers' ``Waits``)."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def event(self, account_id: str) -> threading.Event:
        with self._lock:
            return self._events.setdefault(account_id, threading.Event())

    def observe(self, function: str, event: dict[str, Any], result: Any) -> None:
        if function == "await_response":
            self.event(event["account_id"]).set()


@dataclass
class Debtor:
    cloud: LocalCloud
    waits: Waits
    account_id: str
    journey_id: str = ""

    def waited(self, timeout: float = 60) -> bool:
        """True once the journey waits for us (again); False if it ended first."""
        event = self.waits.event(self.account_id)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if event.wait(0.25):
                event.clear()
                return True
            if self.cloud.execution_status(self.journey_id)["status"] != "RUNNING":
                return False
        raise AssertionError(f"{self.journey_id} neither waited nor ended")

    def wait(self) -> None:
        assert self.waited(), f"{self.journey_id} ended instead of waiting"

    def last_message(self) -> ContactModel:
        sent = [c for c in ContactModel.query(self.account_id) if c.direction == "out" and c.status == "sent"]
        return max(sent, key=lambda contact: (contact.at, contact.contact_id))

    def reply(self, text: str) -> None:
        """Answer the last message on its own channel."""
        stored = AccountModel.get(self.account_id)
        channel = Channel(self.last_message().channel)
        if channel is Channel.EMAIL:
            reply_by_email(self.cloud, stored.email, text)
        elif channel is Channel.WHATSAPP:
            reply_by_whatsapp(self.cloud, stored.phone, text)
        else:
            self.cloud.reply_by_sms(stored.phone, text)

    def pay(self, amount_cents: int | None = None) -> None:
        owed = AccountModel.get(self.account_id).balance_cents
        assert self.cloud.pay_latest_link(self.account_id, amount_cents or owed)["statusCode"] == 200

    def bounce_last_message(self) -> None:
        message = self.last_message()
        event = {"email": "Bounce", "sms": "TEXT_INVALID", "whatsapp": "failed"}[message.channel]
        deliver_event(self.cloud, message, event)

    def accept_plan(self) -> None:
        answer = accept_latest_offer(self.cloud, self.account_id)
        assert answer is not None and answer["statusCode"] == 200, answer

    def hold_placed_by_agent(self) -> None:
        now = self.cloud.clock.now()
        hold = HoldRecord(kind="dispute", placed_by="agent:42", placed_at=now, reason="disputed on a call")
        self.cloud.services.repos.accounts.add_hold(self.account_id, hold)

    def agent_takes_a_promise(self) -> None:
        """An agent records, through the IAM-signed route, the debtor's promise to pay all in three days."""
        owed = AccountModel.get(self.account_id).balance_cents
        due = (self.cloud.clock.now() + timedelta(days=3)).date().isoformat()
        event = {
            "httpMethod": "POST",
            "resource": "/accounts/{account_id}/promises",
            "pathParameters": {"account_id": self.account_id},
            "requestContext": {"identity": {"userArn": "arn:aws:iam::123456789012:user/agent-desk"}},
            "body": json.dumps({"agent_id": "agent-7", "amount_cents": owed, "due_date": due}),
            "isBase64Encoded": False,
        }
        response = self.cloud.invoke("record_agent_promise", event)
        assert response["statusCode"] == 201, response
        assert json.loads(response["body"])["journey"] == "resumed", response

    def settled_elsewhere(self) -> None:
        """A branch payment reconciled from the bank file clears the balance; no journey is told."""
        AccountModel(self.account_id).update(actions=[AccountModel.balance_cents.set(0)])


def _pay_when_asked(debtor: Debtor) -> None:
    if debtor.waited():
        debtor.pay()


@dataclass(frozen=True)
class Scenario:
    name: str
    play: Callable[[Debtor], None]
    outcome: str
    outcomes: dict[str, str] = field(default_factory=dict)  # client -> outcome where its tree differs
    reply_timeout: int = INTERACTIVE_TIMEOUT
    promise_wait: int = 2
    balance_cents: int = BALANCE
    changes: dict[str, Any] = field(default_factory=dict)
    before: Callable[[LocalCloud, str], None] | None = None
    writes_first: str | None = None  # the journey is started by this SMS, not by the campaign

    def expected(self, client: str) -> str:
        return self.outcomes.get(client, self.outcome)


def _two_broken_promises(cloud: LocalCloud, account_id: str) -> None:
    today = cloud.clock.now().date()
    for number, days_ago in enumerate((40, 20)):
        checked = today - timedelta(days=days_ago)
        made = cloud.clock.now() - timedelta(days=days_ago + 5)
        cloud.services.repos.promises.save(PromiseModel(
            account_id, f"P-old-{number}", amount_cents=50_000, made_at=made, source="reply", status="broken",
            due_date=(checked - timedelta(days=2)).isoformat(), check_date=checked.isoformat(),
        ))


DEBT_REVIEW = HoldRecord(
    kind="debt_review", placed_by="counsellor", placed_at=datetime(2026, 11, 1, tzinfo=UTC), reason="17.2"
)


def _both(*steps: Callable[[Debtor], None]) -> Callable[[Debtor], None]:
    def play(debtor: Debtor) -> None:
        for step in steps:
            step(debtor)

    return play


def _wait(debtor: Debtor) -> None:
    debtor.wait()


def _say(text: str) -> Callable[[Debtor], None]:
    return lambda debtor: debtor.reply(text)


def _pay(amount: int | None = None) -> Callable[[Debtor], None]:
    return lambda debtor: debtor.pay(amount)


PROMISE = "I will pay everything on Friday"
# Refuses SMS and asks for email: an opt-out of SMS only, which the inbound function recognises.
EMAIL_INSTEAD = "No more SMS please, email me instead"
# Refusing the channel of the last message and asking for another, so the next one is not held back by
# that channel's daily cap.
INSTEAD = {
    Channel.SMS: EMAIL_INSTEAD,
    Channel.EMAIL: "No more emails please, text me instead",
    Channel.WHATSAPP: "No more WhatsApps please, email me instead",
}


def _ask_for_another_channel(debtor: Debtor) -> None:
    debtor.reply(INSTEAD[Channel(debtor.last_message().channel)])


SCENARIOS = (
    Scenario("nothing owed", _both(), "nothing_owed", balance_cents=0),
    Scenario("under debt review", _both(), "on_hold", changes={"holds": [DEBT_REVIEW]}),
    Scenario("silent, no email address", _both(), "no_response", reply_timeout=SILENT_TIMEOUT,
             changes={"email": None}),
    Scenario("pays in full", _both(_wait, _pay()), "paid"),
    Scenario("pays in two parts", _both(_wait, _pay(100_000), _wait, _pay()), "paid"),
    Scenario("texts STOP", _both(_wait, _say("STOP")), "opted_out"),
    Scenario("the message bounces", _both(_wait, Debtor.bounce_last_message, _wait, _pay()), "paid"),
    Scenario("vulnerable", _both(_wait, _say("I lost my job and cannot feed my children")), "on_hold"),
    Scenario("disputes", _both(_wait, _say("I dispute this amount, I never opened this account")), "on_hold"),
    Scenario("asks in words to be left alone", _both(_wait, _say("Please leave me alone about this")),
             "opted_out"),
    Scenario("writes STOP with no journey running", _both(), "opted_out", writes_first="STOP"),
    Scenario("asks for another channel, then pays", _both(_wait, _ask_for_another_channel, _wait, _pay()),
             "paid"),
    Scenario("asks for email instead of SMS while on hold", _both(), "on_hold", writes_first=EMAIL_INSTEAD,
             changes={"holds": [DEBT_REVIEW]}),
    Scenario("asks for email instead of SMS with nothing owed", _both(), "nothing_owed",
             writes_first=EMAIL_INSTEAD, balance_cents=0),
    Scenario("asks the balance with no journey running", _both(_wait, _pay()), "paid",
             writes_first="How much do I owe exactly?"),
    Scenario("writes while on hold", _both(), "on_hold", writes_first="How much do I owe exactly?",
             changes={"holds": [DEBT_REVIEW]}),
    Scenario("writes in difficulty while on hold", _both(), "on_hold",
             writes_first="I lost my job and cannot feed my children", changes={"holds": [DEBT_REVIEW]}),
    Scenario("writes with nothing owed", _both(), "nothing_owed", writes_first="How much do I owe exactly?",
             balance_cents=0),
    Scenario("asks in words to be left alone with nothing owed", _both(), "opted_out",
             writes_first="Please leave me alone about this", balance_cents=0),
    Scenario("says it is the wrong number while on hold", _both(), "on_hold",
             writes_first="You have the wrong number, I don't know this person", changes={"holds": [DEBT_REVIEW]}),
    Scenario("promises, pays part, then the rest",
             _both(_wait, _say(PROMISE), _wait, _pay(100_000), _wait, _pay()), "promise_kept",
             promise_wait=INTERACTIVE_TIMEOUT),
    Scenario("promises, asks the balance, then pays",
             _both(_wait, _say(PROMISE), _wait, _say("How much do I owe exactly?"), _wait, _pay()), "promise_kept",
             promise_wait=INTERACTIVE_TIMEOUT),
    Scenario("asks for a plan, promises, then accepts the plan",
             _both(_wait, _say("Can I pay this off in instalments"), _wait, _say(PROMISE), _wait, Debtor.accept_plan),
             "plan_accepted", promise_wait=INTERACTIVE_TIMEOUT),
    Scenario("promises, asks for another channel, then pays",
             _both(_wait, _say(PROMISE), _wait, _ask_for_another_channel, _wait, _pay()), "promise_kept",
             promise_wait=INTERACTIVE_TIMEOUT),
    Scenario("promises and breaks it", _both(_wait, _say(PROMISE), _wait, _wait, _pay()), "paid"),
    Scenario("promises, pays part, and the date comes",
             _both(_wait, _say(PROMISE), _wait, _pay(100_000), _wait, _wait, _pay()), "paid", promise_wait=8),
    Scenario("an agent takes a promise, then it is paid",
             _both(_wait, Debtor.agent_takes_a_promise, _wait, _pay()), "promise_kept",
             promise_wait=INTERACTIVE_TIMEOUT),
    Scenario("promises, then an agent takes a new one, then pays",
             _both(_wait, _say(PROMISE), _wait, Debtor.agent_takes_a_promise, _wait, _pay()), "promise_kept",
             promise_wait=INTERACTIVE_TIMEOUT),
    Scenario("promises after breaking two", _both(_wait, _say(PROMISE), _wait, _pay()), "paid",
             before=_two_broken_promises),
    Scenario("asks for a plan and accepts it",
             _both(_wait, _say("Can I pay this off in instalments"), _wait, Debtor.accept_plan),
             "plan_accepted"),
    Scenario("offers too little a month", _both(_wait, _say("I can only manage 10 a month")),
             "agent_requested"),
    Scenario("says it is paid already", _both(_wait, _say("I already paid this last week")),
             "agent_requested"),
    Scenario("refuses to pay", _both(_wait, _say("I am not paying this"), _pay_when_asked), "paid",
             outcomes={"meridian-us": "cease_requested"}),
    Scenario("asks the balance", _both(_wait, _say("How much do I owe exactly?"), _wait, _pay()), "paid"),
    Scenario("an agent places a hold meanwhile", _both(_wait, Debtor.hold_placed_by_agent), "on_hold",
             reply_timeout=4),
    Scenario("settles elsewhere meanwhile", _both(_wait, Debtor.settled_elsewhere), "paid", reply_timeout=4),
)


# -- running a client's tree -------------------------------------------------------------------------


@dataclass
class Run:
    client: str
    cloud: LocalCloud
    definition: dict[str, Any]
    journeys: dict[str, tuple[Scenario, str]]  # journey id -> (scenario, account id)
    results: list[tuple[str, Any]]  # (function, what it returned), as the local cloud saw it
    closed_journey: str = ""
    closed_account: str = ""
    histories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _start(cloud: LocalCloud, account_id: str, scenario: Scenario, timings: dict[str, int]) -> str:
    run = CampaignRun(campaign="trees", timings=timings)
    day = cloud.clock.now().date().isoformat()
    assert _start_journey(cloud.services, account_id, run, day, cloud.clock.now()), scenario.name
    return f"{account_id}-trees-{day}"


def _start_by_writing(cloud: LocalCloud, account_id: str, text: str) -> str:
    """The debtor texts first; the inbound function starts a journey for the reply."""
    taken = cloud.reply_by_sms(AccountModel.get(account_id).phone, text)
    assert taken["started"] == 1, taken
    [journey] = [j for j in JourneyModel.query(account_id) if j.campaign == REPLY_CAMPAIGN]
    return journey.journey_id


@pytest.fixture(params=sorted(CLIENTS))
def tree_run(request: pytest.FixtureRequest) -> Iterator[Run]:
    client = request.param
    rules = CLIENTS[client]
    path = CLIENTS_DIR / f"{client}.toml"
    began = time.perf_counter()
    cloud = LocalCloud(path, SimulatedClock(rules.start, scale=60))
    cloud.__enter__()
    try:
        enable_payments(cloud)
        cloud.services.analyser = ScriptedAnalyser()
        waits = Waits()
        results: list[tuple[str, Any]] = []
        cloud.on_invoke(waits.observe)
        cloud.on_invoke(lambda function, event, result: results.append((function, result)))
        run = Run(client, cloud, load_journey_definition(cloud.client, path), {}, results)
        ready = time.perf_counter()
        _play_every_scenario(run, waits)
        played = time.perf_counter()
        _start_on_a_closed_day(run)
        run.histories = {journey_id: _history(cloud, journey_id) for journey_id in run.journeys}
        print(
            f"\n{client}: local cloud {ready - began:.1f} s, {len(SCENARIOS)} journeys played in "
            f"{played - ready:.1f} s, closed-day journey {time.perf_counter() - played:.1f} s"
        )
        yield run
    finally:
        cloud.__exit__(None, None, None)


def _play_every_scenario(run: Run, waits: Waits) -> None:
    cloud = run.cloud
    debtors = []
    for number, scenario in enumerate(SCENARIOS, start=101):
        debtor_account = account(number, balance_cents=scenario.balance_cents)
        load(cloud, debtor_account, stated_channel=None, **scenario.changes)
        if scenario.before is not None:
            scenario.before(cloud, debtor_account.account_id)
        timings = {
            "reply_timeout_seconds": scenario.reply_timeout, "promise_wait_seconds": scenario.promise_wait
        }
        if scenario.writes_first is None:
            journey_id = _start(cloud, debtor_account.account_id, scenario, timings)
        else:
            journey_id = _start_by_writing(cloud, debtor_account.account_id, scenario.writes_first)
        run.journeys[journey_id] = (scenario, debtor_account.account_id)
        debtors.append((scenario, Debtor(cloud, waits, debtor_account.account_id, journey_id)))
    with ThreadPoolExecutor(max_workers=len(debtors)) as pool:
        played = {scenario.name: pool.submit(scenario.play, debtor) for scenario, debtor in debtors}
    failures = {name: repr(future.exception()) for name, future in played.items() if future.exception()}
    assert failures == {}, failures
    statuses = cloud.wait_for_executions(list(run.journeys), timeout_seconds=240)
    assert set(statuses.values()) == {"SUCCEEDED"}, statuses


def _start_on_a_closed_day(run: Run) -> None:
    """A silent debtor whose journey starts when the jurisdiction allows no contact."""
    cloud = run.cloud
    cloud.clock.rebase(CLIENTS[run.client].closed)
    debtor_account = account(199)
    load(cloud, debtor_account, stated_channel=None)
    scenario = Scenario("starts on a closed day", lambda d: None, "no_response", reply_timeout=SILENT_TIMEOUT)
    timings = {"reply_timeout_seconds": SILENT_TIMEOUT, "promise_wait_seconds": 2, "max_wait_seconds": 2}
    run.closed_journey = _start(cloud, debtor_account.account_id, scenario, timings)
    run.closed_account = debtor_account.account_id
    run.journeys[run.closed_journey] = (scenario, debtor_account.account_id)
    status = cloud.wait_for_executions([run.closed_journey], timeout_seconds=120)[run.closed_journey]
    assert status == "SUCCEEDED", status


def _history(cloud: LocalCloud, journey_id: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = cloud.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{journey_id}"
    events, token = [], None
    while True:
        more = {"nextToken": token} if token else {}
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **more)
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def _rule_taken(definition: dict[str, Any], state: str, data: Any) -> int | None:
    """Index of the first rule of ``state`` that ``data`` satisfies; None: its Default."""
    for index, rule in enumerate(definition["States"][state]["Choices"]):
        probe = {"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [rule], "Default": "-"}}}
        if route(probe, "C", data) != "-":
            return index
    return None


def _branches_taken(run: Run) -> set[tuple[str, int | None]]:
    taken = set()
    for journey_id, events in run.histories.items():
        entered = [e for e in events if e["type"].endswith("StateEntered")]
        for position, event in enumerate(entered[:-1]):
            if event["type"] != "ChoiceStateEntered":
                continue
            details = event["stateEnteredEventDetails"]
            index = _rule_taken(run.definition, details["name"], json.loads(details["input"]))
            state = run.definition["States"][details["name"]]
            # The interpreter went where our reading of the rules says (so the coverage is real).
            target = state["Choices"][index]["Next"] if index is not None else state["Default"]
            went = entered[position + 1]["stateEnteredEventDetails"]["name"]
            assert went == target, (journey_id, details["name"], went, target)
            taken.add((details["name"], index))
    return taken


def _all_branches(definition: dict[str, Any]) -> set[tuple[str, int | None]]:
    branches = set()
    for name, state in definition["States"].items():
        if state["Type"] == "Choice":
            branches |= {(name, index) for index in range(len(state["Choices"]))} | {(name, None)}
    return branches


def _unreachable_defaults(definition: dict[str, Any]) -> set[tuple[str, None]]:
    """Defaults of states whose rules give every value the contract allows its own branch."""
    found = set()
    for name, (field_name, key) in CONTRACT_EXHAUSTED_DEFAULTS.items():
        state = definition["States"].get(name)
        kinds = JourneyResponse.model_fields[key].annotation.__args__
        neutral = {"settled": False, "opt_out": False}
        if state is None:
            continue
        routes = [route(definition, name, {field_name: {key: kind, **neutral}}) for kind in kinds]
        if state["Default"] not in routes:
            found.add((name, None))
    return found


def _outcome(cloud: LocalCloud, journey_id: str) -> str:
    return json.loads(cloud.execution_status(journey_id)["output"])["outcome"]["name"]


# -- the test ----------------------------------------------------------------------------------------


def test_the_client_tree_runs_every_branch_and_explains_every_message(tree_run: Run):
    run, rules = tree_run, CLIENTS[tree_run.client]

    # Then every scenario ended as the client's tree decides
    journeys = run.journeys.items()
    outcomes = {scenario.name: _outcome(run.cloud, journey_id) for journey_id, (scenario, _) in journeys}
    expected = {scenario.name: scenario.expected(run.client) for scenario, _ in run.journeys.values()}
    assert outcomes == expected

    # And every Choice rule and Default of the tree was taken, but those no contract value reaches
    unreachable = _unreachable_defaults(run.definition)
    missing = _all_branches(run.definition) - unreachable - _branches_taken(run)
    assert missing == set(), f"branches never taken: {sorted(missing, key=str)}"

    # And the handlers returned what the contract declares, and so did the events that resumed journeys
    for function, result in run.results:
        if function in STEPS:
            model = CALLBACK_INVOKE_OUTPUT if STEPS[function].callback else STEPS[function].output
            model.model_validate(result)
    for events in run.histories.values():
        for event in events:
            details = event.get("taskSucceededEventDetails") or {}
            if details.get("resource") == "invoke.waitForTaskToken":
                JourneyResponse.model_validate_json(details["output"])

    # And every message sent is explained in full, with the guardrails of the client's jurisdiction
    sent = 0
    for _, account_id in run.journeys.values():
        explained = explain_account(run.cloud.services.repos, account_id)
        for message in explained.contacts:
            if message.status != "sent":
                continue
            sent += 1
            assert message.complete, (message.contact_id, message.missing)
            compliance = message.compliance
            if not compliance.checked:
                assert message.template_id == "opt_out_confirmation"
                continue
            assert (compliance.jurisdiction.value, compliance.timezone) == (rules.code, rules.timezone)
            assert compliance.requires_opt_out_notice is rules.opt_out_notice
            hours = next(check for check in compliance.checks if check.rule == f"{rules.prefix}.window.hours")
            assert rules.window in hours.detail
            assert all(check.rule.startswith((rules.prefix, *NEUTRAL_RULES)) for check in compliance.checks)
    assert sent >= len(SCENARIOS)

    # And every deferral and refusal recorded was by the client's jurisdiction's rules (or neutral ones)
    held_back = [
        entry.rule for _, account_id in run.journeys.values() for entry in AuditModel.query(account_id)
        if entry.action in ("deferred", "refused")
    ]
    assert held_back and all(rule.startswith((rules.prefix, *NEUTRAL_RULES)) for rule in held_back), held_back

    # And the journey started on a closed day waited for the first allowed moment in the debtor's zone
    first = explain_account(run.cloud.services.repos, run.closed_account).contacts[0]
    assert [d.rule for d in first.deferrals] == [rules.deferral_rule]
    assert first.deferrals[0].not_before_local == rules.first_allowed_local
    assert rules.closed_reason in (first.deferrals[0].reason or "")
    assert first.compliance.local_time == rules.first_allowed_local
