"""Rules every template obeys, whoever wrote it, and where an opt-out line is added."""

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rapport.messaging.templates.models import TemplateId
from rapport.models.enums import Channel, Jurisdiction, Tone

_ALL_TONES = frozenset(Tone)
_NEVER_FIRM = _ALL_TONES - {Tone.FIRM}

ALLOWED_TONES: Mapping[str, frozenset[Tone]] = {
    # Someone who told us they are struggling hears support, nothing else.
    TemplateId.HARDSHIP_SUPPORT: frozenset({Tone.SUPPORTIVE}),
    # Nobody should be pressed while their dispute is open, after thanks, when leaving, or by mistake.
    TemplateId.DISPUTE_ACKNOWLEDGED: _NEVER_FIRM,
    TemplateId.PAYMENT_RECEIVED_THANKS: _NEVER_FIRM,
    TemplateId.OPT_OUT_CONFIRMATION: _NEVER_FIRM,
    TemplateId.WRONG_PERSON_APOLOGY: _NEVER_FIRM,
}
"""Tones a template id may be written in; an id not listed (a client's own, too) may use any tone."""

WRONG_PERSON_VARIABLES: frozenset[str] = frozenset({"client_name", "agent_phone", "unsubscribe_url"})
"""All a wrong-person apology may mention: nothing about the debtor or the debt reaches a stranger."""

RESTRICTED_VARIABLES: Mapping[str, frozenset[str]] = {
    TemplateId.WRONG_PERSON_APOLOGY: WRONG_PERSON_VARIABLES,
}

REQUIRED_VARIABLES: Mapping[tuple[str, Channel], frozenset[str]] = {
    # The hardship message exists to point to free, independent debt advice.
    (TemplateId.HARDSHIP_SUPPORT, Channel.EMAIL): frozenset({"debt_advice_name", "debt_advice_contact"}),
    (TemplateId.HARDSHIP_SUPPORT, Channel.SMS): frozenset({"debt_advice_contact"}),
    (TemplateId.HARDSHIP_SUPPORT, Channel.WHATSAPP): frozenset({"debt_advice_contact"}),
    (TemplateId.HARDSHIP_SUPPORT, Channel.PUSH): frozenset({"debt_advice_contact"}),
}
"""Variables a template must use on a channel, checked when the catalogue loads."""

REQUIRED_CONTEXT: Mapping[str, frozenset[str]] = {
    TemplateId.FINAL_REMINDER: frozenset({"due_date"}),
    TemplateId.PAYMENT_RECEIVED_THANKS: frozenset({"payment_amount_cents"}),
    TemplateId.PROMISE_CONFIRMATION: frozenset({"promise_date", "promise_amount_cents"}),
    TemplateId.PROMISE_PARTLY_KEPT: frozenset({"balance_cents"}),
    TemplateId.PLAN_CONFIRMATION: frozenset(
        {"plan_instalment_cents", "plan_instalments", "plan_frequency", "plan_start_date"}
    ),
    TemplateId.BALANCE_STATEMENT: frozenset({"balance_cents"}),
    TemplateId.CALLBACK_SCHEDULED: frozenset({"callback_at"}),
}
"""Context fields (beyond the always-required ones) a template id cannot do without."""


def required_context(template_id: str) -> frozenset[str]:
    """The optional MessageContext fields a caller must fill for this template id."""
    return REQUIRED_CONTEXT.get(template_id, frozenset())


_WRITTEN_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS, Channel.WHATSAPP})


class OptOutPolicy(BaseModel):
    """On which channels, per jurisdiction, a message carries an opt-out line.

    US Reg F (12 CFR 1006.6(e)) requires a simple opt-out in every electronic communication: we add
    it to email, SMS and WhatsApp, and the policy refuses a US setting without email and SMS. South
    Africa and the United Kingdom get the same by default, as our policy; a client may change them.
    NOTE: push is off by default everywhere because a push notification is switched off in the
    device or app settings, not by a reply; turn it on per jurisdiction to add a line pointing there.
    """

    model_config = ConfigDict(frozen=True)

    channels: Mapping[Jurisdiction, frozenset[Channel]] = Field(
        default_factory=lambda: {jurisdiction: _WRITTEN_CHANNELS for jurisdiction in Jurisdiction}
    )
    exempt_templates: frozenset[str] = frozenset({TemplateId.OPT_OUT_CONFIRMATION})
    """Templates that never carry the line: confirming an opt-out with "reply STOP" would be absurd."""

    @model_validator(mode="after")
    def _reg_f_cannot_be_switched_off(self) -> "OptOutPolicy":
        us_channels = self.channels.get(Jurisdiction.US, frozenset())
        if not {Channel.EMAIL, Channel.SMS} <= us_channels:
            raise ValueError("US Reg F requires an opt-out line on every email and text message")
        return self

    def requires_line(self, jurisdiction: Jurisdiction, channel: Channel, template_id: str) -> bool:
        if template_id in self.exempt_templates:
            return False
        return channel in self.channels.get(jurisdiction, frozenset())
