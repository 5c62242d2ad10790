"""The debtor's device for push: ``POST /accounts/{account_id}/devices``, called by the client's app.

The route is IAM-authorised: the app's backend signs the request (SigV4) once the debtor has signed in to
the app, so the token is known to belong to the account. The device is kept on the account
(``AccountModel.push_device``); the journey then reaches the debtor on push when push is the channel of
an attempt (``rapport.journey.messages.address_for``). The token is an address: it never appears in a
log or on the audit trail, only its platform does.

A new token replaces the one before (a debtor has one device on record). A push suppressed because the
old token had died is open again for the new one; a push the debtor opted out of stays closed.

NOTE: there is no route to forget a device yet (the app signing out); a DELETE on the same resource would
remove ``push_device``. Until then a dead token is suppressed at the first send that Pinpoint refuses.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from rapport.journey.account_requests import RequestRefusedError, read_account_request
from rapport.models.enums import Channel
from rapport.runtime import Services
from rapport.store.models import AccountModel, PushDevice

logger = Logger(child=True)


class DeviceRegistration(BaseModel):
    """The body of ``POST /accounts/{account_id}/devices``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # FCM tokens hold letters, digits, ``-``, ``_`` and ``:``; APNs tokens are hex.
    token: str = Field(min_length=8, max_length=4096, pattern=r"^[A-Za-z0-9_:.\-]+$")
    platform: Literal["GCM", "APNS", "APNS_SANDBOX"]


def _opted_out_of_push(account: AccountModel) -> bool:
    return any(o.channel in (None, Channel.PUSH.value) for o in account.opt_outs or [])


def handle_device_registration(
    services: Services,
    account_id: str,
    raw_body: bytes,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body): 201 registered, 200 the same device again, 400 bad input, 404 unknown
    account."""
    try:
        account, request = read_account_request(services, account_id, raw_body, DeviceRegistration)
    except RequestRefusedError as refused:
        return refused.answer

    now = services.clock.now()
    current = account.push_device
    if current is not None and (current.token, current.platform) == (request.token, request.platform):
        return 200, {"outcome": "unchanged", "platform": request.platform}
    device = PushDevice(token=request.token, platform=request.platform, registered_at=now)
    actions = [AccountModel.push_device.set(device), AccountModel.updated_at.set(now)]
    suppressed = list(account.suppressed_channels or [])
    reopened = Channel.PUSH.value in suppressed and not _opted_out_of_push(account)
    if reopened:
        # NOTE: written from the list as read; a suppression of another channel recorded between the read
        # and this write would be lost. A conditional write on the list (as the journeys' claims use) would
        # keep it.
        others = [channel for channel in suppressed if channel != Channel.PUSH.value]
        actions.append(AccountModel.suppressed_channels.set(others))
    account.update(actions=actions)
    services.repos.audit.append(
        account.account_id,
        "device_registered",
        now,
        rule="push.device_registered",
        reason="the client's app registered the debtor's device for push",
        inputs={"platform": request.platform, "replaced": current is not None, "push_reopened": reopened},
        actor="app",
    )
    logger.info(
        "push device registered",
        extra={"account_id": account.account_id, "platform": request.platform, "push_reopened": reopened},
    )
    return 201, {"outcome": "registered", "platform": request.platform, "push_reopened": reopened}
