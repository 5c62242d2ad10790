"""Message templates: a validated catalogue, sandboxed rendering, opt-out lines and SMS costs.

Typical use::

    catalogue = TemplateCatalogue.load(default=True, overrides=client_templates_dir)
    renderer = MessageRenderer(catalogue, RenderSettings(max_sms_segments=2))
    message = renderer.render(
        TemplateKey(template_id=TemplateId.REMINDER, channel=Channel.SMS, language="af", tone=Tone.FIRM),
        context,
        Jurisdiction.ZA,
    )
"""

from rapport.messaging.sms_encoding import SmsEncoding, fits_in, sms_encoding
from rapport.messaging.templates.catalogue import (
    DebtAdvice,
    OptOutLines,
    TemplateCatalogue,
    TemplateEntry,
    language_fallback,
    tone_fallback,
)
from rapport.messaging.templates.errors import (
    TemplateError,
    TemplateNotFoundError,
    TemplateProblem,
    TemplateRenderError,
    TemplateValidationError,
)
from rapport.messaging.templates.formatting import FormatLocale, format_locale
from rapport.messaging.templates.models import (
    MessageContext,
    RenderedMessage,
    RenderWarning,
    TemplateId,
    TemplateKey,
    WarningCode,
)
from rapport.messaging.templates.renderer import MessageRenderer, RenderSettings
from rapport.messaging.templates.rules import OptOutPolicy, required_context
from rapport.messaging.templates.sandbox import TemplateSandbox

__all__ = [
    "DebtAdvice",
    "FormatLocale",
    "MessageContext",
    "MessageRenderer",
    "OptOutLines",
    "OptOutPolicy",
    "RenderSettings",
    "RenderWarning",
    "RenderedMessage",
    "SmsEncoding",
    "TemplateCatalogue",
    "TemplateEntry",
    "TemplateError",
    "TemplateId",
    "TemplateKey",
    "TemplateNotFoundError",
    "TemplateProblem",
    "TemplateRenderError",
    "TemplateSandbox",
    "TemplateValidationError",
    "WarningCode",
    "fits_in",
    "format_locale",
    "language_fallback",
    "required_context",
    "sms_encoding",
    "tone_fallback",
]
