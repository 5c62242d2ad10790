"""Load portfolio accounts into the local cloud's accounts table, scored and segmented.

A small, deterministic share of accounts arrives with the state a real book carries: a debt
review hold placed by a counsellor, or an SMS opt-out recorded earlier. Both are synthetic, like
the debtors, and they make the guardrails' refusals visible in every run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapport.models.enums import HoldKind
from rapport.portfolio import PortfolioAccount
from rapport.store.models import AccountModel, Debtor, HoldRecord, OptOutRecord
from rapport.strategy.scoring import MonthBehaviour, assign_segment, score_account
from rapport_local.cloud import LocalCloud


@dataclass(frozen=True)
class Loaded:
    accounts: int
    in_arrears: int
    with_debt_review: int
    with_sms_opt_out: int


def _share(account_id: str, label: str) -> float:
    digest = hashlib.sha256(f"{label}:{account_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def to_record(account: PortfolioAccount, cloud: LocalCloud, now: datetime) -> AccountModel:
    strategy = cloud.client.strategy
    history = [MonthBehaviour(m.status, m.bill_cents, m.paid_cents) for m in account.history]
    score = score_account(history, account.balance_cents, account.credit_limit_cents, account.days_past_due)
    segment = assign_segment(
        strategy.segment_rules, strategy.default_segment, account.days_past_due, account.balance_cents, score
    )
    holds, opt_outs = [], []
    if _share(account.account_id, "debt-review") < 0.015:
        holds.append(
            HoldRecord(
                kind=HoldKind.DEBT_REVIEW.value,
                placed_by="debt-counsellor:synthetic",
                placed_at=now - timedelta(days=40),
                reason="Form 17.2 received (synthetic)",
            )
        )
    if _share(account.account_id, "sms-opt-out") < 0.03:
        opt_outs.append(OptOutRecord(channel="sms", address=account.debtor.phone, recorded_at=now - timedelta(days=90)))
    return AccountModel(
        account.account_id,
        debtor=Debtor(
            first_name=account.debtor.first_name,
            last_name=account.debtor.last_name,
            language=account.debtor.language,
            timezone=cloud.client.timezone,
            synthetic=account.debtor.synthetic,
        ),
        phone=account.debtor.phone,
        email=account.debtor.email.lower(),
        credit_limit_cents=account.credit_limit_cents,
        balance_cents=account.balance_cents,
        currency=cloud.client.currency,
        days_past_due=account.days_past_due,
        history=[[m.month, m.status, m.bill_cents, m.paid_cents] for m in account.history],
        status="in_arrears" if account.in_arrears else "active",
        segment=segment.value,
        score=score.points,
        reason_codes=list(score.reason_codes),
        arrears_segment=segment.value if account.in_arrears else None,
        stated_channel=account.debtor.stated_channel,
        holds=holds,
        opt_outs=opt_outs,
    )


def load_accounts(cloud: LocalCloud, accounts: Sequence[PortfolioAccount]) -> Loaded:
    now = cloud.clock.now()
    records = [to_record(account, cloud, now) for account in accounts]
    cloud.services.repos.accounts.save_all(records)
    return Loaded(
        accounts=len(records),
        in_arrears=sum(1 for account in accounts if account.in_arrears),
        with_debt_review=sum(1 for record in records if record.holds),
        with_sms_opt_out=sum(1 for record in records if record.opt_outs),
    )
