"""What can go wrong with templates: at load (validation), at lookup, and at render."""

from dataclasses import dataclass
from pathlib import Path


class TemplateError(Exception):
    """Base of every template error."""


@dataclass(frozen=True)
class TemplateProblem:
    """One thing wrong with one template, located by file and key ("reminder.sms.firm")."""

    source: Path
    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.source}: {self.key}: {self.problem}"


class TemplateValidationError(TemplateError):
    """A template file failed validation; every problem found is listed, not just the first."""

    def __init__(self, problems: list[TemplateProblem]) -> None:
        self.problems = tuple(problems)
        listed = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{len(self.problems)} template problem(s):\n{listed}")


class TemplateNotFoundError(TemplateError, LookupError):
    """No template for the id and channel in the language (or its fallbacks) and any allowed tone."""


class TemplateRenderError(TemplateError):
    """A template could not be rendered safely: a missing value, a blocked operation, a bad value.

    The message names the template key and the reason; it never contains the context's values.
    """
