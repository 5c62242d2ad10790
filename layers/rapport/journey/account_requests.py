"""Reading a request the client's own systems make about one account (``/accounts/{account_id}/...``,
IAM-signed): a JSON object validated by its pydantic model, and the account it names.

Every refusal is an HTTP status and a JSON body naming what is wrong, never the values given (a device
token is an address, a promise's amount is the debtor's business).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from rapport.runtime import Services
from rapport.store.models import AccountModel
from rapport.store.repositories import RecordNotFoundError

Request = TypeVar("Request", bound=BaseModel)


class RequestRefusedError(Exception):
    """The request cannot be taken: ``answer`` is the (HTTP status, JSON body) to give."""

    def __init__(self, status: int, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.answer: tuple[int, dict[str, Any]] = (status, {"outcome": "rejected", "reason": reason, **details})


def read_account_request(
    services: Services, account_id: str, raw_body: bytes, model: type[Request]
) -> tuple[AccountModel, Request]:
    """The account and the validated body; raises :class:`RequestRefusedError` with 400 for a body that
    is not a JSON object or does not fit ``model`` (the fields and what is wrong with each), 404 for an
    account we do not hold."""
    try:
        document = json.loads(raw_body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RequestRefusedError(400, "unparseable_body", message="the body must be a JSON object") from None
    if not isinstance(document, dict):
        raise RequestRefusedError(400, "unparseable_body", message="the body must be a JSON object")
    try:
        request = model.model_validate(document)
    except ValidationError as error:
        problems = {".".join(str(p) for p in e["loc"]) or "body": e["msg"] for e in error.errors()}
        raise RequestRefusedError(400, "invalid_request", fields=sorted(problems), problems=problems) from None
    try:
        account = services.repos.accounts.get(account_id)
    except RecordNotFoundError:
        raise RequestRefusedError(404, "unknown_account") from None
    return account, request
