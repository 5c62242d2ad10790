"""Rendering template text where it cannot run code or reach beyond the values it is given.

Three layers keep a template (a client's own, too) harmless:

1. Jinja's ImmutableSandboxedEnvironment refuses unsafe attributes (``__class__``, ``__globals__``
   and the like) and any method that mutates a value.
2. Our subclass also refuses every function or method call, string repetition and formatting with
   ``*``, ``%`` and ``**`` (which could build huge strings), has no globals (no ``range``,
   ``cycler``, ``lipsum``...), and offers only a short list of filters.
3. The catalogue's validation refuses, before anything renders, unknown names and filters and the
   constructs a message never needs (loops, macros, includes, assignments, calls).

Undefined names raise (StrictUndefined), so a missing value can never print as an empty string.
"""

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import Any

from jinja2 import StrictUndefined, Template, nodes, pass_context
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from rapport.messaging.templates.errors import TemplateRenderError
from rapport.messaging.templates.formatting import FormatLocale, FormattingError

MAX_OUTPUT_CHARACTERS = 20_000

ALLOWED_FILTERS: frozenset[str] = frozenset(
    {"money", "date", "time", "frequency", "default", "upper", "lower", "capitalize", "trim"}
)

ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.CondExpr,
    nodes.Filter,
    nodes.Test,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Concat,
    nodes.Add,
    nodes.Sub,
    nodes.Neg,
    nodes.Keyword,
    nodes.Getattr,
    nodes.Getitem,
)
"""Syntax a message template may use. Attribute access is allowed here and policed by the sandbox."""


class _MessageSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "/", "//", "%", "**"})

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        raise SecurityError("calling a function or method is not allowed in a message template")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        raise SecurityError(f"the {operator!r} operator is not allowed in a message template")


def _build_filters(locale: FormatLocale, builtin: Mapping[str, Callable[..., Any]]) -> dict[str, Any]:
    @pass_context
    def money(context: Context, amount_cents: Any, currency: str | None = None) -> str:
        if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
            raise FormattingError("money takes an amount in cents (an integer)")
        return locale.money(amount_cents, currency or context.get("currency", "ZAR"))

    def day(value: Any, with_year: bool = False) -> str:
        if not isinstance(value, date):
            raise FormattingError("date takes a date")
        return locale.day(value, with_year=with_year)

    def clock(value: Any) -> str:
        if not isinstance(value, datetime | time):
            raise FormattingError("time takes a date and time, or a time")
        return locale.clock(value)

    def frequency(value: Any) -> str:
        return locale.frequency(str(value))

    filters: dict[str, Any] = {"money": money, "date": day, "time": clock, "frequency": frequency}
    filters.update({name: builtin[name] for name in ("default", "upper", "lower", "capitalize", "trim")})
    assert set(filters) == ALLOWED_FILTERS
    return filters


def _environment(locale: FormatLocale, *, html: bool) -> _MessageSandbox:
    environment = _MessageSandbox(
        undefined=StrictUndefined,
        autoescape=html,
        # Block tags keep their line breaks; the renderer folds the blank lines they leave, which is
        # easier for template authors than reasoning about trim_blocks.
        trim_blocks=False,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.globals.clear()
    environment.filters = _build_filters(locale, environment.filters)
    return environment


_UNDEFINED_NAME = re.compile(r"^'([A-Za-z_][A-Za-z0-9_]*)' is undefined$")


class TemplateSandbox:
    """Renders template text for one formatting locale, in plain text or with HTML escaping."""

    def __init__(self, locale: FormatLocale) -> None:
        self.locale = locale
        self._text = _environment(locale, html=False)
        self._html = _environment(locale, html=True)
        self._compiled: dict[tuple[str, bool], Template] = {}

    def parse(self, source: str) -> nodes.Template:
        """Parse without compiling, for validation. Raises jinja2's TemplateSyntaxError."""
        return self._text.parse(source)

    def render(
        self, source: str, variables: Mapping[str, Any], *, html: bool = False, label: str = ""
    ) -> str:
        """Render ``source`` with ``variables``; any failure becomes a TemplateRenderError.

        The error names ``label`` and the reason, never the variables' values.
        """
        where = f"{label}: " if label else ""
        try:
            template = self._compile(source, html)
            output = template.render(variables)
        except SecurityError as error:
            raise TemplateRenderError(f"{where}blocked an unsafe operation: {error}") from error
        except UndefinedError as error:
            raise TemplateRenderError(f"{where}{_explain_undefined(error)}") from error
        except FormattingError as error:
            raise TemplateRenderError(f"{where}{error}") from error
        except TemplateSyntaxError as error:
            raise TemplateRenderError(f"{where}invalid template syntax on line {error.lineno}") from error
        except Exception as error:
            # A template is code we did not write; whatever it raises is reported as a render failure.
            raise TemplateRenderError(f"{where}failed with {type(error).__name__}") from error
        if len(output) > MAX_OUTPUT_CHARACTERS:
            raise TemplateRenderError(f"{where}output is longer than {MAX_OUTPUT_CHARACTERS} characters")
        return output

    def _compile(self, source: str, html: bool) -> Template:
        template = self._compiled.get((source, html))
        if template is None:
            template = (self._html if html else self._text).from_string(source)
            self._compiled[(source, html)] = template
        return template


def _explain_undefined(error: UndefinedError) -> str:
    match = _UNDEFINED_NAME.match(str(error))
    if match:
        return f"needs {match.group(1)!r}, which the context does not have"
    return f"used a value that does not exist ({error})"
