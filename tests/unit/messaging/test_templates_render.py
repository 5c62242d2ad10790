"""Rendering: every default template, opt-out lines, HTML escaping, formatting, the sandbox, SMS costs."""

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from rapport.messaging.templates import (
    MessageContext,
    MessageRenderer,
    OptOutPolicy,
    RenderSettings,
    TemplateCatalogue,
    TemplateId,
    TemplateKey,
    TemplateRenderError,
    TemplateSandbox,
    WarningCode,
    format_locale,
    required_context,
)
from rapport.messaging.templates.catalogue import WHATSAPP_PLACEHOLDER
from rapport.messaging.templates.formatting import AF_ZA, EN_GB, EN_US, EN_ZA, FormattingError
from rapport.models.enums import Channel, Jurisdiction, Tone

PAY_LINK = "https://pay.example.co.za/p/AbC123xyz"
UNSUBSCRIBE = "https://example.co.za/u/abc"


def full_context(**overrides) -> MessageContext:
    """A context with every field set, as long as real data tends to be."""
    values = {
        "debtor_first_name": "Thandiwe",
        "client_name": "Acme Retail Finance",
        "reference": "ACC-1234567",
        "amount_due_cents": 123_450,
        "due_date": date(2026, 12, 11),
        "pay_link_url": PAY_LINK,
        "promise_date": date(2026, 12, 18),
        "promise_amount_cents": 50_000,
        "plan_summary": "6 x R250.00",
        "plan_instalment_cents": 25_000,
        "plan_instalments": 6,
        "plan_frequency": "monthly",
        "plan_start_date": date(2027, 1, 25),
        "agent_phone": "021 555 0100",
        "agent_name": "Sipho",
        "balance_cents": 987_654,
        "payment_amount_cents": 50_000,
        "payment_date": date(2026, 12, 4),
        "callback_at": datetime(2026, 12, 8, 14, 30),
        "unsubscribe_url": UNSUBSCRIBE,
    }
    values.update(overrides)
    return MessageContext(**values)


def minimal_context(template_id: str) -> MessageContext:
    """Only what is always required, plus what this template id cannot do without."""
    full = full_context().model_dump()
    values = {
        name: full[name] for name in ("debtor_first_name", "client_name", "reference", "amount_due_cents")
    }
    values.update({name: full[name] for name in required_context(template_id)})
    return MessageContext(**values)


CATALOGUE = TemplateCatalogue.load()
DEFAULT_KEYS = sorted(CATALOGUE.keys(), key=str)


@pytest.fixture(scope="module")
def renderer() -> MessageRenderer:
    return MessageRenderer(CATALOGUE)


def _key(template_id, channel=Channel.SMS, language="en", tone=Tone.NEUTRAL) -> TemplateKey:
    return TemplateKey(template_id=template_id, channel=channel, language=language, tone=tone)


# ---------------------------------------------------------------------------------------------
# Every default template renders


def _assert_complete(message, key) -> None:
    """A rendered message has no leftovers of the template language and has its channel's parts."""
    parts = [message.text, message.subject or "", message.title or "", *message.whatsapp_parameters]
    for part in parts:
        assert "{{" not in part and "{%" not in part and "None" not in part, (key, part)
        assert "  " not in part, (key, part)
    assert message.text.strip() == message.text and message.text
    if key.channel == Channel.EMAIL:
        assert message.subject and message.html and message.html.startswith("<!DOCTYPE html>")
    if key.channel == Channel.PUSH:
        assert message.title
    if key.channel == Channel.SMS:
        assert message.sms is not None
    if key.channel == Channel.WHATSAPP:
        body = CATALOGUE.get(key).body
        assert message.whatsapp_template
        assert len(message.whatsapp_parameters) == len(set(WHATSAPP_PLACEHOLDER.findall(body)))
        assert all(parameter and "\n" not in parameter for parameter in message.whatsapp_parameters)


@pytest.mark.parametrize("jurisdiction", list(Jurisdiction))
@pytest.mark.parametrize("key", DEFAULT_KEYS, ids=str)
def test_every_default_template_renders_with_a_full_context(renderer, key, jurisdiction):
    # Given a full context / When the exact template renders / Then it is complete and not a fallback
    message = renderer.render(key, full_context(), jurisdiction)
    assert (message.template_id, message.channel, message.language, message.tone) == (
        key.template_id,
        key.channel,
        key.language,
        key.tone,
    )
    _assert_complete(message, key)


@pytest.mark.parametrize("key", DEFAULT_KEYS, ids=str)
def test_every_default_template_renders_with_only_the_context_it_requires(renderer, key):
    # Given a context with none of the optional fields: a template must check them before use
    message = renderer.render(key, minimal_context(key.template_id), Jurisdiction.ZA)
    _assert_complete(message, key)
    assert PAY_LINK not in message.text


# The longest values a run of ours gives: a ten-letter name, a six-figure balance, the sandbox link.
LONGEST_ORDINARY = {
    "debtor_first_name": "Nomvuyiswa",
    "client_name": "Acme Retail Credit",
    "reference": "ACC-012345",
    "amount_due_cents": 12_345_678,
    "pay_link_url": "https://pay.rapport.example/pay/L0123456789abcdef0123",
}


@pytest.mark.parametrize("longest", [False, True], ids=["ordinary", "longest"])
@pytest.mark.parametrize("key", [k for k in DEFAULT_KEYS if k.channel == Channel.SMS], ids=str)
def test_default_sms_stay_gsm7_and_within_two_segments(renderer, key, longest):
    # Given a long but ordinary context (client name, reference and pay link all present)
    context = full_context(**LONGEST_ORDINARY) if longest else full_context()
    for jurisdiction in Jurisdiction:
        message = renderer.render(key, context, jurisdiction)
        # Then the SMS, opt-out line included, is cheap: GSM-7 and at most two segments
        assert message.sms.encoding == "GSM-7", (key, message.sms.non_gsm_characters)
        assert message.sms.segments <= 2, (key, message.sms)
        assert not message.warnings


def test_a_missing_required_field_names_the_field(renderer):
    # Given a promise confirmation without the promise
    with pytest.raises(TemplateRenderError, match="promise_amount_cents, promise_date"):
        renderer.render(_key(TemplateId.PROMISE_CONFIRMATION), minimal_context("reminder"), Jurisdiction.ZA)


# ---------------------------------------------------------------------------------------------
# What the defaults say, and do not say


@pytest.mark.parametrize("key", [k for k in DEFAULT_KEYS if k.channel == Channel.PUSH], ids=str)
def test_push_notifications_never_show_amounts_on_a_lock_screen(renderer, key):
    message = renderer.render(key, full_context(), Jurisdiction.ZA)
    shown = f"{message.title} {message.text}"
    assert not re.search(r"R\d", shown), shown


@pytest.mark.parametrize(
    "key", [k for k in DEFAULT_KEYS if k.template_id == TemplateId.WRONG_PERSON_APOLOGY], ids=str
)
def test_a_wrong_person_apology_says_nothing_about_the_debtor_or_the_debt(renderer, key):
    message = renderer.render(key, full_context(), Jurisdiction.US)
    shown = " ".join([message.text, message.subject or "", *message.whatsapp_parameters])
    for secret in ("Thandiwe", "ACC-1234567", "1 234", "1,234", "9 876", PAY_LINK):
        assert secret not in shown


@pytest.mark.parametrize(
    ("jurisdiction", "language", "name", "contact"),
    [
        (Jurisdiction.ZA, "en", "the National Credit Regulator", "www.ncr.org.za"),
        (Jurisdiction.ZA, "af", "die Nasionale Kredietreguleerder", "www.ncr.org.za"),
        (Jurisdiction.UK, "en", "MoneyHelper", "www.moneyhelper.org.uk"),
        (Jurisdiction.US, "en", "the National Foundation for Credit Counseling", "www.nfcc.org"),
    ],
)
def test_hardship_messages_point_to_free_debt_advice_for_the_jurisdiction(
    renderer, jurisdiction, language, name, contact
):
    for channel in (Channel.SMS, Channel.EMAIL, Channel.WHATSAPP):
        key = _key(TemplateId.HARDSHIP_SUPPORT, channel, language, Tone.SUPPORTIVE)
        message = renderer.render(key, full_context(), jurisdiction)
        assert name in message.text and contact in message.text


def test_a_context_can_name_its_own_debt_advice(renderer):
    context = full_context(debt_advice_name="Debt Rescue Trust", debt_advice_contact="0800 000 000")
    key = _key(TemplateId.HARDSHIP_SUPPORT, tone=Tone.SUPPORTIVE)
    assert "Debt Rescue Trust: 0800 000 000" in renderer.render(key, context, Jurisdiction.ZA).text


# ---------------------------------------------------------------------------------------------
# Opt-out lines


@pytest.mark.parametrize("jurisdiction", list(Jurisdiction))
def test_sms_and_whatsapp_carry_a_stop_line_in_the_message_language(renderer, jurisdiction):
    english = renderer.render(_key("reminder"), full_context(), jurisdiction)
    afrikaans = renderer.render(_key("reminder", language="af"), full_context(), jurisdiction)
    whatsapp = renderer.render(_key("reminder", Channel.WHATSAPP, "af"), full_context(), jurisdiction)
    assert english.opt_out_line_added and english.text.endswith("\nReply STOP to opt out.")
    assert afrikaans.text.endswith("\nAntwoord STOP om af te skakel.")
    assert whatsapp.text.endswith("\n\nAntwoord STOP om af te skakel.")
    assert whatsapp.whatsapp_footer == "Antwoord STOP om af te skakel."


def test_email_gets_a_footer_with_an_unsubscribe_instruction(renderer):
    with_link = renderer.render(_key("reminder", Channel.EMAIL), full_context(), Jurisdiction.US)
    assert with_link.text.endswith(f"reply with the word STOP or unsubscribe at {UNSUBSCRIBE}")
    assert f'<a href="{UNSUBSCRIBE}">{UNSUBSCRIBE}</a></p>' in with_link.html

    without_link = renderer.render(
        _key("reminder", Channel.EMAIL, "af"), full_context(unsubscribe_url=None), Jurisdiction.ZA
    )
    assert without_link.text.endswith(
        "Antwoord op hierdie e-pos met die woord STOP as u nie meer e-posse van ons wil ontvang nie."
    )
    assert without_link.opt_out_line_added


def test_push_and_the_opt_out_confirmation_carry_no_line_by_default(renderer):
    push = renderer.render(_key("reminder", Channel.PUSH), full_context(), Jurisdiction.US)
    confirmation = renderer.render(_key(TemplateId.OPT_OUT_CONFIRMATION), full_context(), Jurisdiction.US)
    assert not push.opt_out_line_added and "STOP" not in push.text
    assert not confirmation.opt_out_line_added and "STOP" not in confirmation.text


def test_a_client_can_drop_the_line_in_za_and_add_it_to_push():
    # Given a client that switches the ZA line off and wants push covered in the US
    policy = OptOutPolicy(
        channels={
            Jurisdiction.ZA: frozenset(),
            Jurisdiction.UK: frozenset({Channel.SMS, Channel.EMAIL}),
            Jurisdiction.US: frozenset({Channel.SMS, Channel.EMAIL, Channel.WHATSAPP, Channel.PUSH}),
        }
    )
    renderer = MessageRenderer(CATALOGUE, RenderSettings(opt_out=policy))
    za = renderer.render(_key("reminder"), full_context(), Jurisdiction.ZA)
    uk_whatsapp = renderer.render(_key("reminder", Channel.WHATSAPP), full_context(), Jurisdiction.UK)
    us_push = renderer.render(_key("reminder", Channel.PUSH, "af"), full_context(), Jurisdiction.US)
    assert not za.opt_out_line_added and "STOP" not in za.text
    assert not uk_whatsapp.opt_out_line_added and uk_whatsapp.whatsapp_footer is None
    assert us_push.text.endswith("\nU kan hierdie kennisgewings in die toep se instellings afskakel.")


def test_reg_f_opt_out_cannot_be_switched_off_for_the_us():
    with pytest.raises(ValidationError, match="Reg F"):
        OptOutPolicy(channels={Jurisdiction.US: frozenset({Channel.EMAIL})})


# ---------------------------------------------------------------------------------------------
# Email HTML


def test_html_is_escaped_but_text_channels_are_not(renderer):
    # Given a debtor name holding markup
    context = full_context(debtor_first_name="<b>Ann</b> & Co")
    explicit = renderer.render(
        _key("first_notice", Channel.EMAIL, tone=Tone.FRIENDLY), context, Jurisdiction.ZA
    )
    derived = renderer.render(_key("reminder", Channel.EMAIL), context, Jurisdiction.ZA)
    sms = renderer.render(_key("reminder"), context, Jurisdiction.ZA)
    # Then both kinds of HTML escape it, and the plain text keeps it as written
    for html in (explicit.html, derived.html):
        assert "&lt;b&gt;Ann&lt;/b&gt; &amp; Co" in html and "<b>Ann</b>" not in html
    assert "<b>Ann</b> & Co" in explicit.text and "<b>Ann</b> & Co" in sms.text


def test_html_built_from_text_links_only_the_context_links(renderer):
    message = renderer.render(_key("reminder", Channel.EMAIL), full_context(), Jurisdiction.ZA)
    assert f'<a href="{PAY_LINK}">{PAY_LINK}</a>' in message.html
    assert message.html.count("<a href=") == 2
    assert (
        '<html lang="en">' in message.html
        and "<title>Payment reminder: account ACC-1234567</title>" in message.html
    )


def test_links_must_be_https():
    with pytest.raises(ValidationError, match="https"):
        full_context(pay_link_url="javascript:alert(1)")


def test_context_text_cannot_hold_line_breaks():
    with pytest.raises(ValidationError, match="line breaks"):
        full_context(debtor_first_name="Ann\nReply YES to pay R1")


# ---------------------------------------------------------------------------------------------
# SMS cost warnings


def test_a_warning_when_an_sms_needs_more_segments_than_the_client_allows():
    renderer = MessageRenderer(CATALOGUE, RenderSettings(max_sms_segments=1))
    message = renderer.render(_key("reminder", tone=Tone.FIRM), full_context(), Jurisdiction.ZA)
    assert message.sms.segments == 2
    assert message.sms_over_segment_limit
    assert message.warnings[0].code == WarningCode.SMS_OVER_SEGMENT_LIMIT
    assert message.warnings[0].detail == "2 GSM-7 segments; the client allows 1"


def test_a_name_with_e_diaeresis_turns_an_sms_into_ucs2(renderer):
    # Given a debtor called Zoë (ë is not in GSM-7)
    message = renderer.render(
        _key("reminder", language="af"), full_context(debtor_first_name="Zoë"), Jurisdiction.ZA
    )
    assert message.sms.encoding == "UCS-2"
    assert message.sms.non_gsm_characters == ("ë",)
    assert message.sms.segments >= 3
    assert message.sms_over_segment_limit


# ---------------------------------------------------------------------------------------------
# Formatting


@pytest.mark.parametrize(
    ("locale", "cents", "currency", "expected"),
    [
        (EN_ZA, 123_450, "ZAR", "R1 234.50"),
        (AF_ZA, 123_450, "ZAR", "R1 234,50"),
        (EN_ZA, 0, "ZAR", "R0.00"),
        (EN_ZA, 5, "ZAR", "R0.05"),
        (EN_ZA, 99, "ZAR", "R0.99"),
        (EN_ZA, 100_000, "ZAR", "R1 000.00"),
        (AF_ZA, 123_456_789, "ZAR", "R1 234 567,89"),
        (EN_ZA, -1_200, "ZAR", "-R12.00"),
        (EN_US, 123_450, "USD", "$1,234.50"),
        (EN_GB, 123_450, "GBP", "£1,234.50"),
        (AF_ZA, 123_450, "EUR", "€1 234,50"),
    ],
)
def test_money(locale, cents, currency, expected):
    assert locale.money(cents, currency) == expected


def test_money_refuses_a_currency_it_cannot_write():
    with pytest.raises(FormattingError, match="JPY"):
        EN_ZA.money(100, "JPY")
    with pytest.raises(ValidationError, match="currency"):
        full_context(currency="JPY")


@pytest.mark.parametrize(
    ("language", "jurisdiction", "expected", "with_year"),
    [
        ("en", Jurisdiction.ZA, "Friday 11 December", "Friday 11 December 2026"),
        ("af", Jurisdiction.ZA, "Vrydag 11 Desember", "Vrydag 11 Desember 2026"),
        ("en", Jurisdiction.UK, "Friday 11 December", "Friday 11 December 2026"),
        ("en", Jurisdiction.US, "Friday, December 11", "Friday, December 11, 2026"),
        ("af", Jurisdiction.US, "Vrydag 11 Desember", "Vrydag 11 Desember 2026"),
    ],
)
def test_dates(language, jurisdiction, expected, with_year):
    locale = format_locale(language, jurisdiction)
    assert locale.day(date(2026, 12, 11)) == expected
    assert locale.day(date(2026, 12, 11), with_year=True) == with_year


def test_every_weekday_and_month_in_afrikaans():
    # Given Monday 30 November 2026 and the six days after it, and the first of every month of 2027
    week = [AF_ZA.day(date(2026, 11, 30) + timedelta(days=offset)) for offset in range(7)]
    months = [AF_ZA.day(date(2027, month, 1)).split()[-1] for month in range(1, 13)]
    # Then the Afrikaans names come out in order
    assert [day.split()[0] for day in week] == [
        "Maandag", "Dinsdag", "Woensdag", "Donderdag", "Vrydag", "Saterdag", "Sondag"
    ]  # fmt: skip
    assert months == [
        "Januarie", "Februarie", "Maart", "April", "Mei", "Junie",
        "Julie", "Augustus", "September", "Oktober", "November", "Desember",
    ]  # fmt: skip


def test_times():
    assert EN_ZA.clock(time(14, 30)) == "14:30"
    assert AF_ZA.clock(time(9, 5)) == "09:05"
    assert EN_US.clock(time(14, 30)) == "2:30 PM"
    assert EN_US.clock(time(0, 15)) == "12:15 AM"
    assert EN_US.clock(time(12, 0)) == "12:00 PM"


def test_filters_in_a_template_use_the_context_currency_and_the_locale():
    sandbox = TemplateSandbox(AF_ZA)
    variables = {"amount_due_cents": 123_450, "currency": "ZAR", "due_date": date(2026, 12, 11)}
    rendered = sandbox.render(
        "{{ amount_due_cents | money }} / {{ amount_due_cents | money('EUR') }} / {{ due_date | date }}",
        variables,
    )
    assert rendered == "R1 234,50 / €1 234,50 / Vrydag 11 Desember"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{{ 12.5 | money }}", "money takes an amount in cents"),
        ("{{ 'soon' | date }}", "date takes a date"),
        ("{{ 5 | time }}", "time takes a date and time"),
        ("{{ 'yearly' | frequency }}", "unknown plan frequency"),
    ],
)
def test_filters_refuse_values_of_the_wrong_kind(source, reason):
    with pytest.raises(TemplateRenderError, match=reason):
        TemplateSandbox(EN_ZA).render(source, {"currency": "ZAR"})


# ---------------------------------------------------------------------------------------------
# The sandbox


SECRET = "s3cr3t-value"


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ debtor_first_name.__class__.__init__.__globals__ }}",
        "{{ due_date.__class__.__subclasses__() }}",
        "{{ debtor_first_name.__len__() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ lipsum.__globals__ }}",
        "{{ range(10) }}",
        "{{ namespace }}",
        "{{ config }}",
        "{{ request }}",
        "{{ debtor_first_name.upper() }}",
        "{{ debtor_first_name.format(x=1) }}",
        "{{ 'x' * 100000000 }}",
        "{{ '%s' % debtor_first_name }}",
        "{{ 9 ** 999999 }}",
        "{{ debtor_first_name | attr('__class__') }}",
        "{{ debtor_first_name | safe }}",
        "{% include 'x' %}",
        "{% import 'os' as os %}",
    ],
)
def test_escape_attempts_fail_safely_with_a_template_render_error(payload):
    # Given a sandbox and a context holding a value that must not leak
    sandbox = TemplateSandbox(EN_ZA)
    # When a template tries to reach code or attributes outside the context
    with pytest.raises(TemplateRenderError) as caught:
        sandbox.render(payload, {"debtor_first_name": SECRET, "due_date": date(2026, 1, 1)}, label="probe")
    # Then it fails with our error, labelled, and without any value from the context
    assert str(caught.value).startswith("probe: ")
    assert SECRET not in str(caught.value)


def test_an_unsafe_override_loads_but_cannot_render(tmp_path: Path):
    # Given a client override trying to reach a Python class from a template
    (tmp_path / "en.toml").write_text(
        "[reminder.sms.neutral]\ntext = \"{{ ''.__class__ }}\"\n", encoding="utf-8"
    )
    renderer = MessageRenderer(TemplateCatalogue.load(overrides=tmp_path))
    # When it renders / Then the sandbox blocks it with a clear error naming the key
    with pytest.raises(
        TemplateRenderError, match=r"en:reminder\.sms\.neutral text: blocked an unsafe operation"
    ):
        renderer.render(_key("reminder"), full_context(), Jurisdiction.ZA)


def test_default_filter_covers_a_missing_optional_value():
    sandbox = TemplateSandbox(EN_ZA)
    assert sandbox.render("{{ agent_name | default('our team') }}", {}) == "our team"
    assert sandbox.render("{{ agent_name | default('our team') }}", {"agent_name": "Sipho"}) == "Sipho"


def test_safe_attribute_access_still_works():
    sandbox = TemplateSandbox(EN_ZA)
    assert sandbox.render("{{ due_date.year }}", {"due_date": date(2026, 12, 11)}) == "2026"


def test_html_autoescape_applies_only_to_html():
    sandbox = TemplateSandbox(EN_ZA)
    assert sandbox.render("{{ n }}", {"n": "<i>"}, html=True) == "&lt;i&gt;"
    assert sandbox.render("{{ n }}", {"n": "<i>"}) == "<i>"


def test_whatsapp_parameters_are_flattened_to_one_line(tmp_path: Path):
    # Given a parameter that joins two values with a run of spaces (WhatsApp refuses such runs)
    (tmp_path / "en.toml").write_text(
        '[reminder.whatsapp.neutral]\ntemplate = "rapport_reminder_neutral"\n'
        'body = "Hello {{1}}, thanks."\nparameters = ["client_name ~ \'      \' ~ reference"]\n',
        encoding="utf-8",
    )
    renderer = MessageRenderer(TemplateCatalogue.load(overrides=tmp_path))
    message = renderer.render(_key("reminder", Channel.WHATSAPP), full_context(), Jurisdiction.ZA)
    assert message.whatsapp_parameters == ("Acme Retail Finance ACC-1234567",)
    assert message.text.startswith("Hello Acme Retail Finance ACC-1234567, thanks.")
