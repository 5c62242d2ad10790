"""Deployment options of a client stack, read from CDK context (``cdk.json`` or ``-c key=value``).

None of these is a secret and none needs an AWS call: synth stays offline.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any, Literal

from aws_cdk import aws_logs as logs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# Option field -> context key.
CONTEXT_KEYS = {
    "account": "account",
    "region": "region",
    "log_retention_days": "rapport:logRetentionDays",
    "alarm_email": "rapport:alarmEmail",
    "reply_analyser": "rapport:replyAnalyser",
    "pay_page_base_url": "rapport:payPageBaseUrl",
    "powertools_version": "rapport:powertoolsVersion",
    "powertools_layer_arn": "rapport:powertoolsLayerArn",
    "api_rate_limit": "rapport:apiRateLimit",
    "api_burst_limit": "rapport:apiBurstLimit",
    "waf_rate_limit": "rapport:wafRateLimit",
}

_days = logs.RetentionDays
_RETENTION_DAYS = {
    1: _days.ONE_DAY, 3: _days.THREE_DAYS, 5: _days.FIVE_DAYS, 7: _days.ONE_WEEK, 14: _days.TWO_WEEKS,
    30: _days.ONE_MONTH, 60: _days.TWO_MONTHS, 90: _days.THREE_MONTHS, 120: _days.FOUR_MONTHS,
    150: _days.FIVE_MONTHS, 180: _days.SIX_MONTHS, 365: _days.ONE_YEAR, 400: _days.THIRTEEN_MONTHS,
    545: _days.EIGHTEEN_MONTHS, 731: _days.TWO_YEARS, 1096: _days.THREE_YEARS, 1827: _days.FIVE_YEARS,
}


class OptionsError(Exception):
    """A context value is missing its expected form; the message names the context key."""


class StackOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    account: str | None = Field(default=None, pattern=r"^\d{12}$")
    region: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    log_retention_days: int = 90
    alarm_email: str | None = None
    # Comprehend is not offered in af-south-1; "comprehend" suits clients in regions that have it.
    reply_analyser: Literal["local", "comprehend"] = "local"
    pay_page_base_url: str | None = None
    # The managed Powertools layer must carry the version the code is tested with.
    powertools_version: str = Field(
        default_factory=lambda: importlib.metadata.version("aws-lambda-powertools")
    )
    powertools_layer_arn: str | None = None
    api_rate_limit: int = Field(default=50, ge=1)
    api_burst_limit: int = Field(default=100, ge=1)
    waf_rate_limit: int = Field(default=1000, ge=10, le=2_000_000_000)

    @field_validator("log_retention_days")
    @classmethod
    def _known_retention(cls, days: int) -> int:
        if days not in _RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs accepts only {sorted(_RETENTION_DAYS)}")
        return days

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION_DAYS[self.log_retention_days]

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> StackOptions:
        """Build from a mapping of context key -> value (what ``node.try_get_context`` returns)."""
        values = {
            field: context[key] for field, key in CONTEXT_KEYS.items() if context.get(key) not in (None, "")
        }
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = [
                f"{CONTEXT_KEYS.get(str(problem['loc'][0]), problem['loc'][0])}: {problem['msg']}"
                for problem in error.errors()
            ]
            raise OptionsError("invalid CDK context: " + "; ".join(problems)) from error
