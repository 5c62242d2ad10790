"""The template catalogue: defaults shipped as TOML, a client's overrides on top, validated on load.

A language file is named after its language (``en.toml``, ``af.toml``) and holds one table per
template, ``[<template_id>.<channel>.<tone>]``, with the fields of its channel:

- email: ``subject``, ``text`` and optionally ``html`` (else the HTML is built from the text);
- sms: ``text``;
- whatsapp: ``template`` (the approved template's name), ``body`` (the approved body, with Meta's
  ``{{1}}``-style placeholders) and ``parameters`` (one template expression per placeholder, in order);
- push: ``title`` and ``body``.

Two reserved tables hold per-language wording that is not a template: ``[_opt_out]`` (the opt-out
lines: ``text`` for SMS and WhatsApp, ``email``, ``email_with_link``, ``push``) and
``[_debt_advice.<JURISDICTION>]`` (``name`` and ``contact`` of free debt advice). An override file
replaces defaults key by key, and reserved lines field by field.
"""

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from pydantic import ValidationError

from rapport.messaging.templates.errors import (
    TemplateNotFoundError,
    TemplateProblem,
    TemplateValidationError,
)
from rapport.messaging.templates.formatting import EN_ZA, SUPPORTED_LANGUAGES
from rapport.messaging.templates.models import CONTEXT_VARIABLES, TemplateKey
from rapport.messaging.templates.rules import ALLOWED_TONES, REQUIRED_VARIABLES, RESTRICTED_VARIABLES
from rapport.messaging.templates.sandbox import ALLOWED_FILTERS, ALLOWED_NODES, TemplateSandbox
from rapport.models.enums import Channel, Jurisdiction, Tone

DEFAULTS_DIRECTORY = Path(__file__).parent / "defaults"
FALLBACK_LANGUAGE = "en"

TEMPLATE_VARIABLES: frozenset[str] = CONTEXT_VARIABLES
"""Every name a template may use (debt advice is filled from the jurisdiction when not given)."""

CHANNEL_FIELDS: Mapping[Channel, tuple[frozenset[str], frozenset[str]]] = {
    Channel.EMAIL: (frozenset({"subject", "text"}), frozenset({"html"})),
    Channel.SMS: (frozenset({"text"}), frozenset()),
    Channel.WHATSAPP: (frozenset({"template", "body", "parameters"}), frozenset()),
    Channel.PUSH: (frozenset({"title", "body"}), frozenset()),
}
"""Per channel: (required fields, optional fields)."""

OPT_OUT_FIELDS: frozenset[str] = frozenset({"text", "email", "email_with_link", "push"})
DEBT_ADVICE_FIELDS: frozenset[str] = frozenset({"name", "contact"})

WHATSAPP_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
WHATSAPP_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
WHATSAPP_BODY_LIMIT = 1024
WHATSAPP_FOOTER_LIMIT = 60


@dataclass(frozen=True)
class TemplateEntry:
    """One validated template, with the file it came from."""

    key: TemplateKey
    source: Path
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    title: str | None = None
    body: str | None = None
    whatsapp_template: str | None = None
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class OptOutLines:
    """How a language tells the debtor they can stop messages, per channel."""

    text: str
    email: str
    email_with_link: str
    push: str


@dataclass(frozen=True)
class DebtAdvice:
    """Where free, independent debt advice is, as a message in one language names it."""

    name: str
    contact: str


@dataclass
class _Loaded:
    entries: dict[TemplateKey, TemplateEntry] = field(default_factory=dict)
    opt_out: dict[str, dict[str, str]] = field(default_factory=dict)
    debt_advice: dict[tuple[str, Jurisdiction], dict[str, str]] = field(default_factory=dict)
    problems: list[TemplateProblem] = field(default_factory=list)


class TemplateCatalogue:
    """Templates keyed by (template_id, channel, language, tone), with tone and language fallback.

    Fallback: the requested language, then English; within a language the requested tone, then
    neutral, friendly, supportive. A firm template is only ever chosen when firm was requested: a
    fallback never makes a message harder than asked.
    """

    def __init__(
        self,
        entries: Mapping[TemplateKey, TemplateEntry],
        opt_out: Mapping[str, OptOutLines],
        debt_advice: Mapping[tuple[str, Jurisdiction], DebtAdvice],
    ) -> None:
        self._entries = dict(entries)
        self._opt_out = dict(opt_out)
        self._debt_advice = dict(debt_advice)

    @classmethod
    def load(cls, default: bool = True, overrides: Path | None = None) -> "TemplateCatalogue":
        """Load the shipped templates and/or a client's directory of language files.

        Raises TemplateValidationError listing every problem (file and key) found, and
        NotADirectoryError when ``overrides`` is not a directory.
        """
        files: list[Path] = []
        if default:
            files.extend(sorted(DEFAULTS_DIRECTORY.glob("*.toml")))
        if overrides is not None:
            if not overrides.is_dir():
                raise NotADirectoryError(f"template overrides must be a directory: {overrides}")
            files.extend(sorted(overrides.glob("*.toml")))
        if not files:
            raise ValueError("no template files to load: ask for the defaults or give an overrides directory")

        loaded = _Loaded()
        for path in files:
            _load_file(path, loaded)
        _check_catalogue(loaded, files)
        if loaded.problems:
            raise TemplateValidationError(loaded.problems)
        return cls(
            entries=loaded.entries,
            opt_out={
                language: OptOutLines(**lines)
                for language, lines in loaded.opt_out.items()
                if lines.keys() == OPT_OUT_FIELDS
            },
            debt_advice={key: DebtAdvice(**advice) for key, advice in loaded.debt_advice.items()},
        )

    def keys(self) -> frozenset[TemplateKey]:
        return frozenset(self._entries)

    def languages(self) -> frozenset[str]:
        return frozenset(key.language for key in self._entries)

    def get(self, key: TemplateKey) -> TemplateEntry:
        """The template exactly at ``key``, without fallback."""
        try:
            return self._entries[key]
        except KeyError:
            raise TemplateNotFoundError(f"no template at {key}") from None

    def resolve(self, key: TemplateKey) -> TemplateEntry:
        """The template to use for ``key``, after language and tone fallback; its key says which."""
        for language in language_fallback(key.language):
            for tone in tone_fallback(key.tone):
                candidate = TemplateKey(
                    template_id=key.template_id, channel=key.channel, language=language, tone=tone
                )
                entry = self._entries.get(candidate)
                if entry is not None:
                    return entry
        raise TemplateNotFoundError(
            f"no template {key.template_id!r} on {key.channel.value} in"
            f" {'/'.join(language_fallback(key.language))} with any tone allowed for {key.tone.value}"
        )

    def opt_out_lines(self, language: str) -> OptOutLines:
        return self._opt_out[language]

    def debt_advice(self, language: str, jurisdiction: Jurisdiction) -> DebtAdvice | None:
        return self._debt_advice.get((language, jurisdiction))


def language_fallback(language: str) -> tuple[str, ...]:
    """Languages to try, in order: the requested one, then English."""
    return tuple(dict.fromkeys((language, FALLBACK_LANGUAGE)))


def tone_fallback(tone: Tone) -> tuple[Tone, ...]:
    """Tones to try, in order. Firm is tried only when it was requested."""
    return tuple(dict.fromkeys((tone, Tone.NEUTRAL, Tone.FRIENDLY, Tone.SUPPORTIVE)))


def _load_file(path: Path, loaded: _Loaded) -> None:
    def problem(key: str, message: str) -> None:
        loaded.problems.append(TemplateProblem(path, key, message))

    language = path.stem
    if language not in SUPPORTED_LANGUAGES:
        problem(
            "(file)",
            f"no formatting conventions for language {language!r}"
            f" (files are named by language: {', '.join(sorted(SUPPORTED_LANGUAGES))})",
        )
        return
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        problem("(file)", f"not valid TOML: {error}")
        return

    for top_key, value in document.items():
        if top_key == "_opt_out":
            _load_opt_out(path, language, value, loaded)
        elif top_key == "_debt_advice":
            _load_debt_advice(path, language, value, loaded)
        elif top_key.startswith("_"):
            problem(top_key, "unknown reserved table (expected _opt_out or _debt_advice)")
        else:
            _load_template(path, language, top_key, value, loaded)


def _load_template(path: Path, language: str, template_id: str, value: Any, loaded: _Loaded) -> None:
    def problem(key: str, message: str) -> None:
        loaded.problems.append(TemplateProblem(path, key, message))

    if not isinstance(value, dict):
        problem(template_id, "must be a table of channels")
        return
    for channel_name, tones in value.items():
        dotted_channel = f"{template_id}.{channel_name}"
        if channel_name not in CHANNEL_FIELDS:
            problem(dotted_channel, f"unknown channel (expected {', '.join(sorted(CHANNEL_FIELDS))})")
            continue
        if not isinstance(tones, dict):
            problem(dotted_channel, "must be a table of tones")
            continue
        for tone_name, fields in tones.items():
            dotted = f"{dotted_channel}.{tone_name}"
            if tone_name not in Tone.__members__.values():
                problem(dotted, f"unknown tone (expected {', '.join(tone.value for tone in Tone)})")
                continue
            try:
                key = TemplateKey(
                    template_id=template_id, channel=Channel(channel_name), language=language, tone=tone_name
                )
            except ValidationError as error:
                problem(dotted, _first_error(error))
                continue
            problems = _check_entry_fields(key, fields)
            entry = None if problems else _entry(key, path, fields)
            if entry is not None:
                problems = _check_entry(entry)
            for message in problems:
                problem(dotted, message)
            if entry is not None and not problems:
                loaded.entries[key] = entry


def _first_error(error: ValidationError) -> str:
    return str(error.errors()[0]["msg"])


def _check_entry_fields(key: TemplateKey, fields: Any) -> list[str]:
    if not isinstance(fields, dict):
        return ["must be a table of fields"]
    required, optional = CHANNEL_FIELDS[key.channel]
    problems = []
    missing = required - fields.keys()
    if missing:
        problems.append(
            f"missing {', '.join(sorted(missing))} (a {key.channel.value} template needs"
            f" {', '.join(sorted(required))})"
        )
    unknown = fields.keys() - required - optional
    if unknown:
        problems.append(f"unknown field(s) {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        if name == "parameters":
            if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
                problems.append("parameters must be a list of template expressions")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"{name} must be non-empty text")
    return problems


def _entry(key: TemplateKey, path: Path, fields: dict[str, Any]) -> TemplateEntry:
    return TemplateEntry(
        key=key,
        source=path,
        subject=fields.get("subject"),
        text=fields.get("text"),
        html=fields.get("html"),
        title=fields.get("title"),
        body=fields.get("body"),
        whatsapp_template=fields.get("template"),
        parameters=tuple(fields.get("parameters", ())),
    )


@lru_cache(maxsize=1)
def _parser() -> TemplateSandbox:
    return TemplateSandbox(EN_ZA)


@lru_cache(maxsize=4096)
def _inspect(source: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """Problems in one piece of template text, and the variables it uses.

    Cached by text: parsing is most of the cost of a load, and the defaults are the same every time.
    Since assignments, loops and macros are refused, every name a template reads is a variable
    it expects from the context.
    """
    try:
        tree = _parser().parse(source)
    except TemplateSyntaxError as error:
        return (f"template syntax error on line {error.lineno}: {error.message}",), frozenset()
    refused = sorted(
        {type(node).__name__ for node in tree.find_all(nodes.Node) if not isinstance(node, ALLOWED_NODES)}
    )
    if refused:
        return (f"uses {', '.join(refused)}, which message templates may not use",), frozenset()
    problems = []
    unknown_filters = sorted({node.name for node in tree.find_all(nodes.Filter)} - ALLOWED_FILTERS)
    if unknown_filters:
        problems.append(
            f"unknown filter(s) {', '.join(unknown_filters)} (allowed: {', '.join(sorted(ALLOWED_FILTERS))})"
        )
    variables = frozenset(node.name for node in tree.find_all(nodes.Name) if node.ctx == "load")
    unknown = sorted(variables - TEMPLATE_VARIABLES)
    if unknown:
        problems.append(f"unknown placeholder(s) {', '.join(unknown)}")
    return tuple(problems), variables


def _analyse(source: str, label: str) -> tuple[list[str], set[str]]:
    """Check one piece of template text; return (problems labelled with the field, variables it uses)."""
    problems, variables = _inspect(source)
    return [f"{label}: {problem}" for problem in problems], set(variables)


@lru_cache(maxsize=1024)
def _check_parameter_shape(expression: str) -> bool:
    """A WhatsApp parameter must be exactly one expression, not text or several tags."""
    try:
        tree = _parser().parse("{{ " + expression + " }}")
    except TemplateSyntaxError:
        return True  # reported by _analyse with the line and reason
    return (
        len(tree.body) == 1
        and isinstance(tree.body[0], nodes.Output)
        and len(tree.body[0].nodes) == 1
        and not isinstance(tree.body[0].nodes[0], nodes.TemplateData)
    )


def _check_whatsapp(entry: TemplateEntry) -> list[str]:
    problems = []
    assert entry.whatsapp_template is not None and entry.body is not None
    if not WHATSAPP_NAME.match(entry.whatsapp_template):
        problems.append("template must be an approved WhatsApp name: lower case letters, digits, underscores")
    if len(entry.body) > WHATSAPP_BODY_LIMIT:
        problems.append(f"body is longer than WhatsApp's {WHATSAPP_BODY_LIMIT} characters")
    numbers = {int(number) for number in WHATSAPP_PLACEHOLDER.findall(entry.body)}
    expected = set(range(1, len(entry.parameters) + 1))
    if numbers != expected:
        problems.append(
            f"body placeholders {sorted(numbers)} do not match the {len(entry.parameters)}"
            " parameter(s): number them {{1}}, {{2}}... one per parameter"
        )
    leftover = WHATSAPP_PLACEHOLDER.sub("", entry.body)
    if any(marker in leftover for marker in ("{{", "{%", "{#")):
        problems.append("body may only hold {{1}}-style placeholders; put expressions in parameters")
    for index, expression in enumerate(entry.parameters, start=1):
        if not _check_parameter_shape(expression):
            problems.append(f"parameters[{index}] must be a single expression such as 'debtor_first_name'")
    return problems


def _sources(entry: TemplateEntry) -> Iterable[tuple[str, str]]:
    """(label, template text) for every field of an entry that is rendered with Jinja."""
    for label in ("subject", "text", "html", "title"):
        value = getattr(entry, label)
        if value is not None:
            yield label, value
    if entry.key.channel == Channel.PUSH and entry.body is not None:
        yield "body", entry.body
    for index, expression in enumerate(entry.parameters, start=1):
        yield f"parameters[{index}]", "{{ " + expression + " }}"


def _check_entry(entry: TemplateEntry) -> list[str]:
    key = entry.key
    problems: list[str] = []
    allowed_tones = ALLOWED_TONES.get(key.template_id)
    if allowed_tones is not None and key.tone not in allowed_tones:
        problems.append(
            f"{key.template_id} may not be written in the {key.tone.value} tone"
            f" (allowed: {', '.join(sorted(tone.value for tone in allowed_tones))})"
        )
    if key.channel == Channel.WHATSAPP:
        problems.extend(_check_whatsapp(entry))
    if entry.subject is not None and "\n" in entry.subject.strip():
        problems.append("subject must be a single line")

    used: set[str] = set()
    for label, source in _sources(entry):
        found, variables = _analyse(source, label)
        problems.extend(found)
        used |= variables

    restricted = RESTRICTED_VARIABLES.get(key.template_id)
    if restricted is not None and used - restricted:
        problems.append(
            f"{key.template_id} may only mention {', '.join(sorted(restricted))},"
            f" not {', '.join(sorted(used - restricted))}"
        )
    needed = REQUIRED_VARIABLES.get((key.template_id, key.channel), frozenset()) - used
    if needed:
        problems.append(f"{key.template_id} on {key.channel.value} must use {', '.join(sorted(needed))}")
    return problems


def _load_opt_out(path: Path, language: str, value: Any, loaded: _Loaded) -> None:
    def problem(key: str, message: str) -> None:
        loaded.problems.append(TemplateProblem(path, key, message))

    if not isinstance(value, dict):
        problem("_opt_out", "must be a table of lines")
        return
    lines = loaded.opt_out.setdefault(language, {})
    for name, line in value.items():
        key = f"_opt_out.{name}"
        if name not in OPT_OUT_FIELDS:
            problem(key, f"unknown line (expected {', '.join(sorted(OPT_OUT_FIELDS))})")
            continue
        if not isinstance(line, str) or not line.strip():
            problem(key, "must be non-empty text")
            continue
        found, variables = _analyse(line, name)
        allowed = {"unsubscribe_url"} if name == "email_with_link" else set()
        if variables - allowed:
            found.append(f"may not use {', '.join(sorted(variables - allowed))}")
        if name == "email_with_link" and "unsubscribe_url" not in variables:
            found.append("must use unsubscribe_url")
        if name == "text" and len(line.strip()) > WHATSAPP_FOOTER_LIMIT:
            found.append(f"is also the WhatsApp footer, which allows {WHATSAPP_FOOTER_LIMIT} characters")
        if "\n" in line.strip():
            found.append("must be a single line")
        for message in found:
            problem(key, message)
        if not found:
            lines[name] = line.strip()


def _load_debt_advice(path: Path, language: str, value: Any, loaded: _Loaded) -> None:
    def problem(key: str, message: str) -> None:
        loaded.problems.append(TemplateProblem(path, key, message))

    if not isinstance(value, dict):
        problem("_debt_advice", "must be a table of jurisdictions")
        return
    for code, advice in value.items():
        key = f"_debt_advice.{code}"
        if code not in Jurisdiction.__members__.values():
            problem(key, f"unknown jurisdiction (expected {', '.join(j.value for j in Jurisdiction)})")
            continue
        if not isinstance(advice, dict) or set(advice) - DEBT_ADVICE_FIELDS:
            problem(key, "must be a table with name and contact")
            continue
        if not all(isinstance(text, str) and text.strip() for text in advice.values()):
            problem(key, "name and contact must be non-empty text")
            continue
        merged = loaded.debt_advice.setdefault((language, Jurisdiction(code)), {})
        merged.update({name: text.strip() for name, text in advice.items()})


def _check_catalogue(loaded: _Loaded, files: list[Path]) -> None:
    """Checks across files, once overrides are merged: every language can finish its messages."""
    languages = {key.language for key in loaded.entries}
    for language in sorted(languages):
        source = next(entry.source for key, entry in loaded.entries.items() if key.language == language)
        missing = OPT_OUT_FIELDS - loaded.opt_out.get(language, {}).keys()
        if missing:
            loaded.problems.append(
                TemplateProblem(
                    source,
                    "_opt_out",
                    f"language {language!r} lacks opt-out line(s): {', '.join(sorted(missing))}",
                )
            )
        for jurisdiction in Jurisdiction:
            advice = loaded.debt_advice.get((language, jurisdiction), {})
            if advice and DEBT_ADVICE_FIELDS - advice.keys():
                loaded.problems.append(
                    TemplateProblem(
                        source, f"_debt_advice.{jurisdiction.value}", "needs both name and contact"
                    )
                )

    # An approved WhatsApp name belongs to one template per language; the later file is the one to fix.
    order = {path: index for index, path in enumerate(files)}
    names: dict[tuple[str, str], TemplateEntry] = {}
    entries = sorted(loaded.entries.values(), key=lambda entry: (order[entry.source], str(entry.key)))
    for entry in entries:
        if entry.whatsapp_template is None:
            continue
        owner = names.setdefault((entry.key.language, entry.whatsapp_template), entry)
        if owner is not entry:
            loaded.problems.append(
                TemplateProblem(
                    entry.source,
                    entry.key.dotted(),
                    f"WhatsApp template name {entry.whatsapp_template!r} is already used by"
                    f" {owner.key.dotted()}",
                )
            )
