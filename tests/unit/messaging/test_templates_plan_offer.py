"""Plan offers carry the signed self-service link, plan confirmations the plan's pay link, and both read
sensibly when there is none."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from rapport.messaging.templates import (
    MessageContext,
    MessageRenderer,
    TemplateCatalogue,
    TemplateId,
    TemplateKey,
)
from rapport.models.enums import Channel, Jurisdiction, Tone
from rapport.payments.tokens import ACCEPT, PAY, PlanTokenSigner

# The link rapport.journey.plans.acceptance_url signs for a real offer, for the longest account ids a run
# makes, with a token from the signer itself (about 105 characters).
ACCEPT_URL = "https://pay.rapport.example/pay/plans/PL3f9a0c2b7d1e4a?token=" + PlanTokenSigner(
    "plan-token-secret-0123456789"
).issue("ACC-00000041", "PL3f9a0c2b7d1e4a", datetime(2026, 12, 31, tzinfo=UTC), purpose=ACCEPT)
CATALOGUE = TemplateCatalogue.load()
SHIPPED_KEYS = CATALOGUE.keys()
PLAN_OFFER_KEYS = sorted((key for key in SHIPPED_KEYS if key.template_id == TemplateId.PLAN_OFFER), key=str)
WRITTEN_KEYS = [key for key in PLAN_OFFER_KEYS if key.channel != Channel.PUSH]
REPLY_TO_ACCEPT = {"en": "YES", "af": "JA"}


@pytest.fixture(scope="module")
def renderer() -> MessageRenderer:
    return MessageRenderer(CATALOGUE)


def offer(**overrides) -> MessageContext:
    values = {
        "debtor_first_name": "Thandiwe",
        "client_name": "Acme Retail Finance",
        "reference": "ACC-1234567",
        "amount_due_cents": 123_450,
        "plan_instalment_cents": 25_000,
        "plan_instalments": 6,
        "plan_frequency": "monthly",
        "agent_phone": "021 555 0100",
        "plan_accept_url": ACCEPT_URL,
    }
    values.update(overrides)
    return MessageContext(**values)


def test_every_language_channel_and_tone_has_a_plan_offer():
    # Given the shipped catalogue / Then plan_offer exists in both languages, every written channel
    # and push, in supportive and neutral tones
    found = {(key.language, key.channel, key.tone) for key in PLAN_OFFER_KEYS}
    for language in ("en", "af"):
        for channel in (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL, Channel.PUSH):
            for tone in (Tone.SUPPORTIVE, Tone.NEUTRAL):
                assert (language, channel, tone) in found


@pytest.mark.parametrize("key", WRITTEN_KEYS, ids=str)
def test_a_written_plan_offer_shows_the_acceptance_link_instead_of_reply_yes(renderer, key):
    # Given an offer with a signed acceptance link
    # When it is rendered
    message = renderer.render(key, offer(), Jurisdiction.ZA)
    # Then the link is in the text, whole, and the debtor is not told to reply YES to accept
    assert ACCEPT_URL in message.text
    assert f"{ACCEPT_URL} " not in message.text and f"{ACCEPT_URL}." not in message.text
    assert REPLY_TO_ACCEPT[key.language] not in message.text
    if key.channel == Channel.WHATSAPP:
        # the link is a parameter of the approved template, never part of its fixed body
        assert ACCEPT_URL in message.whatsapp_parameters
        assert ACCEPT_URL not in CATALOGUE.get(key).body


@pytest.mark.parametrize("key", WRITTEN_KEYS, ids=str)
def test_without_a_link_a_plan_offer_invites_a_reply_to_accept(renderer, key):
    # Given an offer made while self-service is off (no plan token secret, so no link)
    # When it is rendered
    message = renderer.render(key, offer(plan_accept_url=None), Jurisdiction.ZA)
    # Then it asks for a reply (YES / JA) and mentions no link
    assert REPLY_TO_ACCEPT[key.language] in message.text
    assert "https://" not in message.text and "None" not in message.text


@pytest.mark.parametrize("key", [key for key in PLAN_OFFER_KEYS if key.channel == Channel.PUSH], ids=str)
def test_a_push_notification_never_shows_the_link_on_a_lock_screen(renderer, key):
    # Given an offer with a link, which is a credential until the offer expires
    message = renderer.render(key, offer(), Jurisdiction.ZA)
    # Then the notification does not print it
    assert "https://" not in message.text and "token" not in message.text


def test_the_html_email_links_the_acceptance_url(renderer):
    key = TemplateKey(template_id=TemplateId.PLAN_OFFER, channel=Channel.EMAIL, tone=Tone.NEUTRAL)
    message = renderer.render(key, offer(), Jurisdiction.ZA)
    assert f'<a href="{ACCEPT_URL}">' in message.html


@pytest.mark.parametrize("key", [key for key in PLAN_OFFER_KEYS if key.channel == Channel.SMS], ids=str)
def test_plan_offer_sms_cost(renderer, key):
    # Given a realistic context, with and without the link, in the strictest jurisdiction (US line)
    with_link = renderer.render(key, offer(), Jurisdiction.US)
    without = renderer.render(key, offer(plan_accept_url=None), Jurisdiction.US)
    print(key, "segments with link", with_link.sms.segments, "without", without.sms.segments)
    # Then both stay GSM-7 and fit two segments, the signed link included
    assert with_link.sms.encoding == without.sms.encoding == "GSM-7"
    assert without.sms.segments <= 2 and not without.warnings
    assert with_link.sms.segments <= 2 and not with_link.warnings, with_link.sms


def test_an_acceptance_link_must_be_https():
    with pytest.raises(ValidationError, match="https"):
        offer(plan_accept_url="http://pay.example.co.za/plans/PL1?token=abc")


# The plan's own pay link (rapport.journey.plans.plan_pay_url) for the longest ids a run makes.
PLAN_PAY_URL = "https://pay.rapport.example/pay/plans/PL3f9a0c2b7d1e4a/pay?token=" + PlanTokenSigner(
    "plan-token-secret-0123456789"
).issue("ACC-00000041", "PL3f9a0c2b7d1e4a", datetime(2026, 12, 31, tzinfo=UTC), purpose=PAY)
CONFIRMATION_SMS_KEYS = sorted(
    (key for key in SHIPPED_KEYS if key.template_id == TemplateId.PLAN_CONFIRMATION and key.channel == Channel.SMS),
    key=str,
)


@pytest.mark.parametrize("key", CONFIRMATION_SMS_KEYS, ids=str)
def test_a_plan_confirmation_sms_carries_the_plans_pay_link_within_two_segments(renderer, key):
    # Given an accepted plan with its signed pay link, in the strictest jurisdiction (US opt-out line)
    context = offer(plan_accept_url=None, plan_start_date=datetime(2026, 12, 25).date(), pay_link_url=PLAN_PAY_URL)
    with_link = renderer.render(key, context, Jurisdiction.US)
    without = renderer.render(key, offer(plan_accept_url=None, plan_start_date=datetime(2026, 12, 25).date()),
                              Jurisdiction.US)
    print(key, "segments with link", with_link.sms.segments, "without", without.sms.segments)
    # Then the link is in the message, which stays GSM-7 in two segments; without a link the debtor is
    # told to reply instead
    assert PLAN_PAY_URL in with_link.text and PLAN_PAY_URL not in without.text
    assert with_link.sms.encoding == "GSM-7" and with_link.sms.segments <= 2 and not with_link.warnings
    assert without.sms.segments <= 2 and ("Reply" in without.text or "Antwoord" in without.text)
