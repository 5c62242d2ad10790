"""Turning a template key and a debtor's context into a message a channel can send."""

import re
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field

from rapport.messaging.sms_encoding import SmsEncoding, sms_encoding
from rapport.messaging.templates.catalogue import TemplateCatalogue, TemplateEntry
from rapport.messaging.templates.errors import TemplateRenderError
from rapport.messaging.templates.formatting import FormattingError, format_locale
from rapport.messaging.templates.models import (
    MessageContext,
    RenderedMessage,
    RenderWarning,
    TemplateKey,
    WarningCode,
)
from rapport.messaging.templates.rules import OptOutPolicy, required_context
from rapport.messaging.templates.sandbox import TemplateSandbox
from rapport.models.enums import Channel, Jurisdiction

logger = Logger(child=True)

_SPACE_RUNS = re.compile(r"[ \t]{2,}")
_BLANK_RUNS = re.compile(r"\n{3,}")
_WHITESPACE = re.compile(r"\s+")


class RenderSettings(BaseModel):
    """A client's choices about rendering: SMS budget and where opt-out lines go."""

    model_config = ConfigDict(frozen=True)

    max_sms_segments: int = Field(default=2, ge=1, le=10)
    opt_out: OptOutPolicy = Field(default_factory=OptOutPolicy)


class MessageRenderer:
    """Renders catalogue templates in the sandbox for a jurisdiction's conventions."""

    def __init__(self, catalogue: TemplateCatalogue, settings: RenderSettings | None = None) -> None:
        self.catalogue = catalogue
        self.settings = settings or RenderSettings()
        self._sandboxes: dict[str, TemplateSandbox] = {}

    def render(
        self, key: TemplateKey, context: MessageContext, jurisdiction: Jurisdiction
    ) -> RenderedMessage:
        """Render the template for ``key`` (after fallback) with ``context``.

        Raises TemplateNotFoundError when no template fits, TemplateRenderError when the context
        lacks a value the template needs or the template tries something the sandbox refuses.
        """
        entry = self.catalogue.resolve(key)
        used = entry.key
        variables = context.template_variables()
        missing = required_context(used.template_id) - variables.keys()
        if missing:
            raise TemplateRenderError(f"{used}: needs context field(s) {', '.join(sorted(missing))}")
        advice = self.catalogue.debt_advice(used.language, jurisdiction)
        if advice is not None:
            variables.setdefault("debt_advice_name", advice.name)
            variables.setdefault("debt_advice_contact", advice.contact)

        try:
            locale = format_locale(used.language, jurisdiction)
        except FormattingError as error:
            raise TemplateRenderError(f"{used}: {error}") from error
        sandbox = self._sandboxes.get(locale.tag)
        if sandbox is None:
            sandbox = self._sandboxes.setdefault(locale.tag, TemplateSandbox(locale))

        draft = _Draft(sandbox, variables, str(used))
        fields = _render_channel(entry, draft)

        opt_out_line = None
        if self.settings.opt_out.requires_line(jurisdiction, used.channel, used.template_id):
            opt_out_line = self._opt_out_line(used, variables, draft)
            fields = _with_opt_out(used.channel, fields, opt_out_line)
        if used.channel == Channel.EMAIL:
            fields["html"] = _html_document(used.language, fields, opt_out_line, variables)

        encoding, warnings = (
            (None, ()) if used.channel != Channel.SMS else self._sms_cost(used, fields["text"])
        )
        if used != key:
            logger.info("template fallback used", extra={"requested": str(key), "used": str(used)})

        return RenderedMessage(
            template_id=used.template_id,
            channel=used.channel,
            language=used.language,
            tone=used.tone,
            requested_language=key.language,
            requested_tone=key.tone,
            subject=fields.get("subject"),
            title=fields.get("title"),
            text=fields["text"],
            html=fields.get("html"),
            whatsapp_template=entry.whatsapp_template,
            whatsapp_parameters=tuple(fields.get("parameters", ())),
            whatsapp_footer=opt_out_line if used.channel == Channel.WHATSAPP else None,
            sms=encoding,
            opt_out_line_added=opt_out_line is not None,
            warnings=warnings,
        )

    def _sms_cost(self, key: TemplateKey, text: str) -> tuple[SmsEncoding, tuple[RenderWarning, ...]]:
        encoding = sms_encoding(text)
        limit = self.settings.max_sms_segments
        if encoding.segments <= limit:
            return encoding, ()
        logger.warning(
            "sms over segment limit",
            extra={"template": str(key), "segments": encoding.segments, "encoding": encoding.encoding},
        )
        warning = RenderWarning(
            code=WarningCode.SMS_OVER_SEGMENT_LIMIT,
            detail=f"{encoding.segments} {encoding.encoding} segments; the client allows {limit}",
        )
        return encoding, (warning,)

    def _opt_out_line(self, key: TemplateKey, variables: dict[str, Any], draft: "_Draft") -> str:
        lines = self.catalogue.opt_out_lines(key.language)
        if key.channel == Channel.EMAIL:
            source = lines.email_with_link if "unsubscribe_url" in variables else lines.email
        elif key.channel == Channel.PUSH:
            source = lines.push
        else:
            source = lines.text
        return draft.text(source, "opt-out line")


class _Draft:
    """Renders the pieces of one message with the same sandbox, values and error label."""

    def __init__(self, sandbox: TemplateSandbox, variables: dict[str, Any], label: str) -> None:
        self.sandbox = sandbox
        self.variables = variables
        self.label = label

    def text(self, source: str, part: str) -> str:
        rendered = self.sandbox.render(source, self.variables, label=f"{self.label} {part}")
        return _tidy(rendered)

    def html(self, source: str, part: str) -> str:
        return self.sandbox.render(source, self.variables, html=True, label=f"{self.label} {part}").strip()

    def parameter(self, expression: str, index: int) -> str:
        value = self.sandbox.render(
            "{{ " + expression + " }}", self.variables, label=f"{self.label} parameters[{index}]"
        )
        # WhatsApp refuses parameters holding line breaks, tabs or runs of spaces.
        value = _WHITESPACE.sub(" ", value).strip()
        if not value:
            raise TemplateRenderError(f"{self.label} parameters[{index}]: empty, which WhatsApp refuses")
        return value


def _tidy(text: str) -> str:
    """Tidy whitespace left by optional parts: no doubled spaces, trailing spaces or blank runs."""
    lines = [_SPACE_RUNS.sub(" ", line).strip() for line in text.strip().splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines))


def _render_channel(entry: TemplateEntry, draft: _Draft) -> dict[str, Any]:
    channel = entry.key.channel
    if channel == Channel.EMAIL:
        assert entry.subject is not None and entry.text is not None
        fields: dict[str, Any] = {
            "subject": _WHITESPACE.sub(" ", draft.text(entry.subject, "subject")),
            "text": draft.text(entry.text, "text"),
        }
        if entry.html is not None:
            fields["html_body"] = draft.html(entry.html, "html")
        return fields
    if channel == Channel.SMS:
        assert entry.text is not None
        return {"text": draft.text(entry.text, "text")}
    if channel == Channel.PUSH:
        assert entry.title is not None and entry.body is not None
        return {"title": draft.text(entry.title, "title"), "text": draft.text(entry.body, "body")}
    assert entry.body is not None
    parameters = [draft.parameter(expression, index) for index, expression in enumerate(entry.parameters, 1)]
    text = re.sub(r"\{\{(\d+)\}\}", lambda match: parameters[int(match.group(1)) - 1], entry.body)
    return {"text": _tidy(text), "parameters": parameters}


def _with_opt_out(channel: Channel, fields: dict[str, Any], line: str) -> dict[str, Any]:
    separator = "\n" if channel in (Channel.SMS, Channel.PUSH) else "\n\n"
    return {**fields, "text": f"{fields['text']}{separator}{line}"}


def _linked(text: str, urls: Iterable[str]) -> Markup:
    """Escape text for HTML and turn the context's own links (and only those) into anchors."""
    escaped = str(escape(text))
    links = sorted({str(escape(url)) for url in urls}, key=len, reverse=True)
    if links:
        pattern = re.compile("|".join(re.escape(link) for link in links))
        escaped = pattern.sub(lambda match: f'<a href="{match.group(0)}">{match.group(0)}</a>', escaped)
    return Markup(escaped)  # noqa: S704 - built from escaped text and escaped known links only


def _html_document(
    language: str, fields: dict[str, Any], opt_out_line: str | None, variables: dict[str, Any]
) -> str:
    """The HTML part of an email: the template's own HTML, or paragraphs built from the text."""
    urls = [
        variables[name] for name in ("pay_link_url", "plan_accept_url", "unsubscribe_url") if name in variables
    ]
    body = fields.get("html_body")
    if body is None:
        text = fields["text"]
        if opt_out_line is not None:
            text = text.removesuffix(opt_out_line).rstrip()
        paragraphs = [paragraph for paragraph in text.split("\n\n") if paragraph.strip()]
        body = "\n".join(
            "<p>" + str(_linked(paragraph, urls)).replace("\n", "<br>\n") + "</p>" for paragraph in paragraphs
        )
    footer = ""
    if opt_out_line is not None:
        footer = f'\n<p style="font-size:12px;color:#555555">{_linked(opt_out_line, urls)}</p>'
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(language)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(fields['subject'])}</title>\n</head>\n<body>\n{body}{footer}\n</body>\n</html>"
    )
