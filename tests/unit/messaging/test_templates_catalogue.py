"""The template catalogue: loading the defaults, overrides, validation errors and fallback."""

from pathlib import Path

import pytest

from rapport.messaging.templates import (
    MessageContext,
    MessageRenderer,
    TemplateCatalogue,
    TemplateId,
    TemplateKey,
    TemplateNotFoundError,
    TemplateRenderError,
    TemplateValidationError,
    language_fallback,
    tone_fallback,
)
from rapport.messaging.templates.catalogue import DEFAULTS_DIRECTORY
from rapport.models.enums import Channel, Jurisdiction, Tone

OPT_OUT_EN = """
[_opt_out]
text = "Reply STOP to opt out."
email = "Reply STOP to stop these emails."
email_with_link = "Reply STOP or visit {{ unsubscribe_url }}"
push = "Turn notifications off in settings."
"""

OPT_OUT_AF = """
[_opt_out]
text = "Antwoord STOP om af te skakel."
email = "Antwoord STOP."
email_with_link = "Antwoord STOP of besoek {{ unsubscribe_url }}"
push = "Skakel kennisgewings in die instellings af."
"""


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _context(**overrides) -> MessageContext:
    values = {
        "debtor_first_name": "Ann",
        "client_name": "Acme",
        "reference": "A-1",
        "amount_due_cents": 10_000,
    }
    values.update(overrides)
    return MessageContext(**values)


def _key(template_id="reminder", channel=Channel.SMS, language="en", tone=Tone.NEUTRAL) -> TemplateKey:
    return TemplateKey(template_id=template_id, channel=channel, language=language, tone=tone)


@pytest.fixture(scope="module")
def defaults() -> TemplateCatalogue:
    return TemplateCatalogue.load()


# ---------------------------------------------------------------------------------------------
# The defaults


def test_defaults_cover_every_journey_template_on_sms_email_and_whatsapp_in_both_languages(defaults):
    # Given the shipped catalogue
    covered = {(key.template_id, key.channel, key.language) for key in sorted(defaults.keys(), key=str)}
    # Then every template id is there on the three written channels, in English and Afrikaans
    for template_id in TemplateId:
        for channel in (Channel.SMS, Channel.EMAIL, Channel.WHATSAPP):
            for language in ("en", "af"):
                assert (template_id, channel, language) in covered, (template_id, channel, language)


def test_afrikaans_defaults_mirror_the_english_ones_key_for_key(defaults):
    keys = defaults.keys()
    english = {(k.template_id, k.channel, k.tone) for k in keys if k.language == "en"}
    afrikaans = {(k.template_id, k.channel, k.tone) for k in keys if k.language == "af"}
    assert english == afrikaans


def test_whatsapp_template_names_are_the_same_in_every_language(defaults):
    # Given an approved WhatsApp template is one name with a translation per language
    for key in sorted(defaults.keys(), key=str):
        if key.channel == Channel.WHATSAPP and key.language == "af":
            english = defaults.get(key.model_copy(update={"language": "en"}))
            assert defaults.get(key).whatsapp_template == english.whatsapp_template


def test_hardship_is_only_supportive_and_nothing_sensitive_is_firm(defaults):
    tones = {(k.template_id, k.tone) for k in sorted(defaults.keys(), key=str)}
    assert {tone for template_id, tone in tones if template_id == TemplateId.HARDSHIP_SUPPORT} == {
        Tone.SUPPORTIVE
    }
    for template_id in (
        TemplateId.DISPUTE_ACKNOWLEDGED,
        TemplateId.WRONG_PERSON_APOLOGY,
        TemplateId.OPT_OUT_CONFIRMATION,
        TemplateId.PAYMENT_RECEIVED_THANKS,
    ):
        assert (template_id, Tone.FIRM) not in tones


# ---------------------------------------------------------------------------------------------
# Fallback


def test_tone_fallback_never_reaches_firm_unless_asked():
    assert tone_fallback(Tone.SUPPORTIVE) == (Tone.SUPPORTIVE, Tone.NEUTRAL, Tone.FRIENDLY)
    assert tone_fallback(Tone.FIRM) == (Tone.FIRM, Tone.NEUTRAL, Tone.FRIENDLY, Tone.SUPPORTIVE)
    assert Tone.FIRM not in tone_fallback(Tone.FRIENDLY)
    assert language_fallback("af") == ("af", "en")
    assert language_fallback("en") == ("en",)


def test_hardship_asked_for_in_a_firm_tone_comes_out_supportive(defaults):
    # Given a journey that (wrongly) asks for a firm hardship message
    entry = defaults.resolve(_key(TemplateId.HARDSHIP_SUPPORT, tone=Tone.FIRM, language="af"))
    # Then the supportive Afrikaans one is used
    assert (entry.key.tone, entry.key.language) == (Tone.SUPPORTIVE, "af")


def test_final_reminder_asked_for_friendly_falls_back_to_neutral(defaults):
    entry = defaults.resolve(_key(TemplateId.FINAL_REMINDER, tone=Tone.FRIENDLY))
    assert entry.key.tone == Tone.NEUTRAL


@pytest.fixture
def small_catalogue(tmp_path) -> TemplateCatalogue:
    # Given English with a neutral and a firm reminder and a callback, Afrikaans with a neutral reminder
    _write(
        tmp_path,
        "en.toml",
        OPT_OUT_EN
        + """
[reminder.sms.neutral]
text = "EN neutral {{ reference }}"
[reminder.sms.firm]
text = "EN firm {{ reference }}"
[plan_offer.sms.firm]
text = "EN firm plan {{ reference }}"
[callback_scheduled.sms.neutral]
text = "EN callback {{ callback_at | time }}"
""",
    )
    _write(tmp_path, "af.toml", OPT_OUT_AF + '[reminder.sms.neutral]\ntext = "AF neutraal {{ reference }}"\n')
    return TemplateCatalogue.load(default=False, overrides=tmp_path)


def test_tone_falls_back_within_the_language_before_the_language_falls_back(small_catalogue):
    # When an Afrikaans firm reminder is asked for
    entry = small_catalogue.resolve(_key(language="af", tone=Tone.FIRM))
    # Then the Afrikaans neutral one beats the English firm one
    assert (entry.key.language, entry.key.tone) == ("af", Tone.NEUTRAL)


def test_language_falls_back_to_english_and_the_message_says_so(small_catalogue):
    # When an Afrikaans callback message is asked for, which exists only in English
    renderer = MessageRenderer(small_catalogue)
    message = renderer.render(
        _key("callback_scheduled", language="af"),
        _context(callback_at="2026-12-08T14:30:00"),
        Jurisdiction.ZA,
    )
    # Then the English one is used, reported, and its opt-out line is English too
    assert (message.language, message.requested_language) == ("en", "af")
    assert message.language_fallback_used
    assert not message.tone_fallback_used
    assert message.text == "EN callback 14:30\nReply STOP to opt out."


def test_a_firm_template_is_never_a_fallback(small_catalogue):
    # Given plan_offer exists only in the firm tone
    # When a supportive plan offer is asked for / Then nothing is found rather than the firm one
    with pytest.raises(TemplateNotFoundError, match="plan_offer"):
        small_catalogue.resolve(_key("plan_offer", tone=Tone.SUPPORTIVE))
    assert small_catalogue.resolve(_key("plan_offer", tone=Tone.FIRM)).key.tone == Tone.FIRM


def test_unknown_template_is_not_found(defaults):
    with pytest.raises(TemplateNotFoundError):
        defaults.resolve(_key("birthday_wishes"))
    with pytest.raises(TemplateNotFoundError):
        defaults.get(_key(TemplateId.HARDSHIP_SUPPORT, tone=Tone.FIRM))


# ---------------------------------------------------------------------------------------------
# Overrides


def test_an_override_replaces_one_key_and_leaves_the_rest(tmp_path, defaults):
    # Given a client who rewrites only the English friendly reminder SMS
    _write(tmp_path, "en.toml", '[reminder.sms.friendly]\ntext = "Acme says hi {{ debtor_first_name }}"\n')
    catalogue = TemplateCatalogue.load(default=True, overrides=tmp_path)
    renderer = MessageRenderer(catalogue)
    # When rendering it and its neighbours
    friendly = renderer.render(_key(tone=Tone.FRIENDLY), _context(), Jurisdiction.ZA)
    firm = renderer.render(_key(tone=Tone.FIRM), _context(), Jurisdiction.ZA)
    afrikaans = renderer.render(_key(tone=Tone.FRIENDLY, language="af"), _context(), Jurisdiction.ZA)
    # Then only the overridden key changed
    assert friendly.text == "Acme says hi Ann\nReply STOP to opt out."
    assert (
        firm.text == MessageRenderer(defaults).render(_key(tone=Tone.FIRM), _context(), Jurisdiction.ZA).text
    )
    assert afrikaans.text.startswith("Hallo Ann")
    assert catalogue.keys() == defaults.keys()


def test_an_override_can_add_a_template_and_change_opt_out_and_debt_advice(tmp_path):
    _write(
        tmp_path,
        "en.toml",
        """
[_opt_out]
text = "Text STOP to end messages."

[_debt_advice.ZA]
name = "Our partner counsellors"

[festive_closure.sms.friendly]
text = "{{ client_name }} is closed over the holidays."
""",
    )
    catalogue = TemplateCatalogue.load(overrides=tmp_path)
    renderer = MessageRenderer(catalogue)
    added = renderer.render(_key("festive_closure", tone=Tone.FRIENDLY), _context(), Jurisdiction.ZA)
    assert added.text == "Acme is closed over the holidays.\nText STOP to end messages."
    hardship = renderer.render(
        _key(TemplateId.HARDSHIP_SUPPORT, tone=Tone.SUPPORTIVE), _context(), Jurisdiction.ZA
    )
    # The name changed, the contact kept its default (merged field by field)
    assert "contact Our partner counsellors: www.ncr.org.za." in hardship.text


def test_overrides_must_be_a_directory(tmp_path):
    with pytest.raises(NotADirectoryError):
        TemplateCatalogue.load(overrides=tmp_path / "missing")


def test_loading_nothing_is_refused():
    with pytest.raises(ValueError, match="no template files"):
        TemplateCatalogue.load(default=False)


def test_an_override_that_breaks_a_template_at_render_time_is_reported_with_its_key(tmp_path):
    # Given an override that uses an optional field without checking it is there
    _write(tmp_path, "en.toml", '[reminder.sms.neutral]\ntext = "Call {{ agent_phone }}"\n')
    renderer = MessageRenderer(TemplateCatalogue.load(overrides=tmp_path))
    # When the context has no agent phone / Then the error names the key and the field
    with pytest.raises(TemplateRenderError, match=r"en:reminder\.sms\.neutral.*'agent_phone'"):
        renderer.render(_key(), _context(), Jurisdiction.ZA)


# ---------------------------------------------------------------------------------------------
# Validation: every problem names the file and the key


def _problems(tmp_path: Path, text: str, name: str = "en.toml") -> list[str]:
    path = _write(tmp_path, name, text)
    with pytest.raises(TemplateValidationError) as caught:
        TemplateCatalogue.load(overrides=tmp_path)
    problems = [str(problem) for problem in caught.value.problems]
    assert all(str(path) in problem for problem in problems)
    assert str(caught.value).count("\n  - ") == len(problems)
    return problems


@pytest.mark.parametrize(
    ("toml", "key", "expected"),
    [
        ('[reminder.sms.neutral]\ntext = "{{ amount }} due"', "reminder.sms.neutral",
         "unknown placeholder(s) amount"),
        ('[reminder.email.neutral]\ntext = "Hello"', "reminder.email.neutral", "missing subject"),
        ('[hardship_support.sms.firm]\ntext = "{{ debt_advice_contact }}"', "hardship_support.sms.firm",
         "hardship_support may not be written in the firm tone"),
        ('[dispute_acknowledged.sms.firm]\ntext = "Noted"', "dispute_acknowledged.sms.firm",
         "may not be written in the firm tone"),
        ('[reminder.sms.neutral]\ntext = "{{ reference | attr(\'x\') }}"', "reminder.sms.neutral",
         "unknown filter(s) attr"),
        ('[reminder.sms.neutral]\ntext = "{% if reference %}x"', "reminder.sms.neutral",
         "template syntax error on line 1"),
        ('[reminder.sms.neutral]\ntext = "{% for c in reference %}{{ c }}{% endfor %}"',
         "reminder.sms.neutral", "uses For"),
        ('[reminder.sms.neutral]\ntext = "{{ reference.upper() }}"', "reminder.sms.neutral", "uses Call"),
        ('[reminder.sms.neutral]\ntext = "{% set x = 1 %}{{ x }}"', "reminder.sms.neutral", "uses Assign"),
        ('[reminder.sms.neutral]\ntext = "Hi"\nsubjct = "typo"', "reminder.sms.neutral",
         "unknown field(s) subjct"),
        ('[reminder.sms.neutral]\ntext = ""', "reminder.sms.neutral", "text must be non-empty text"),
        ('[reminder.fax.neutral]\ntext = "Hi"', "reminder.fax", "unknown channel"),
        ('[reminder.call.neutral]\ntext = "Hi"', "reminder.call", "unknown channel"),
        ('[reminder.sms.stern]\ntext = "Hi"', "reminder.sms.stern", "unknown tone"),
        ('[Reminder.sms.neutral]\ntext = "Hi"', "Reminder.sms.neutral", "snake_case"),
        ('[wrong_person_apology.sms.neutral]\ntext = "Sorry {{ debtor_first_name }}"',
         "wrong_person_apology.sms.neutral", "may only mention agent_phone, client_name, unsubscribe_url"),
        ('[hardship_support.sms.supportive]\ntext = "We can help."', "hardship_support.sms.supportive",
         "must use debt_advice_contact"),
        ('[reminder.email.neutral]\nsubject = "Line one\\nline two {{ reference }}"\ntext = "Hi"',
         "reminder.email.neutral", "subject must be a single line"),
        ('[_opt_out]\ntext = "Reply STOP to opt out of every message we might ever send to you on WhatsApp."',
         "_opt_out.text", "WhatsApp footer"),
        ('[_opt_out]\nemail_with_link = "Reply STOP."', "_opt_out.email_with_link",
         "must use unsubscribe_url"),
        ('[_opt_out]\npush = "{{ debtor_first_name }}: turn us off"', "_opt_out.push", "may not use"),
        ('[_debt_advice.FR]\nname = "x"\ncontact = "y"', "_debt_advice.FR", "unknown jurisdiction"),
        ("[_extras]\nx = 1", "_extras", "unknown reserved table"),
    ],
)  # fmt: skip
def test_validation_names_file_key_and_problem(tmp_path, toml, key, expected):
    problems = _problems(tmp_path, toml)
    assert any(f": {key}" in problem and expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ('template = "r"\nbody = "Hi {{1}} and {{3}}"\nparameters = ["reference", "client_name"]',
         "do not match the 2 parameter(s)"),
        ('template = "Reminder-Name"\nbody = "Hi"\nparameters = []', "approved WhatsApp name"),
        ('template = "r"\nbody = "Hi {{ reference }}"\nparameters = []',
         "only hold {{1}}-style placeholders"),
        ('template = "r"\nbody = "Hi {{1}}"\nparameters = ["reference }}{{ client_name"]',
         "must be a single expression"),
        ('template = "r"\nbody = "Hi {{1}}"\nparameters = ["amount"]', "unknown placeholder(s) amount"),
        ('template = "r"\nbody = "Hi {{1}}"\nparameters = "reference"', "parameters must be a list"),
        ('template = "r"\nbody = "Hi"', "missing parameters"),
    ],
)  # fmt: skip
def test_whatsapp_validation(tmp_path, fields, expected):
    problems = _problems(tmp_path, f"[reminder.whatsapp.neutral]\n{fields}\n")
    assert any("reminder.whatsapp.neutral" in problem and expected in problem for problem in problems), (
        problems
    )


def test_two_whatsapp_templates_cannot_share_an_approved_name(tmp_path):
    problems = _problems(
        tmp_path,
        '[reminder.whatsapp.firm]\ntemplate = "rapport_reminder_neutral"\nbody = "Pay"\nparameters = []\n',
    )
    assert any("already used by reminder.whatsapp.neutral" in problem for problem in problems), problems


def test_every_problem_in_a_file_is_reported_at_once(tmp_path):
    problems = _problems(
        tmp_path,
        '[reminder.sms.neutral]\ntext = "{{ amount }}"\n[reminder.email.firm]\ntext = "Pay"\n'
        '[hardship_support.email.firm]\nsubject = "s"\n'
        'text = "{{ debt_advice_name }} {{ debt_advice_contact }}"\n',
    )
    assert len(problems) == 3


def test_a_file_for_a_language_we_cannot_format_is_refused(tmp_path):
    problems = _problems(tmp_path, '[reminder.sms.neutral]\ntext = "Sawubona"\n', name="zu.toml")
    assert any("(file): no formatting conventions for language 'zu'" in problem for problem in problems)


def test_invalid_toml_is_reported_with_its_file(tmp_path):
    problems = _problems(tmp_path, "[reminder.sms.neutral\ntext = 'x'\n")
    assert any("not valid TOML" in problem for problem in problems)


def test_a_language_without_opt_out_lines_is_refused(tmp_path):
    # Given a client catalogue of its own, without the defaults and without opt-out wording
    _write(tmp_path, "en.toml", '[reminder.sms.neutral]\ntext = "Hi"\n')
    with pytest.raises(TemplateValidationError, match=r"_opt_out: language 'en' lacks opt-out line\(s\)"):
        TemplateCatalogue.load(default=False, overrides=tmp_path)


def test_defaults_directory_holds_one_file_per_language():
    assert sorted(path.name for path in DEFAULTS_DIRECTORY.glob("*.toml")) == ["af.toml", "en.toml"]
