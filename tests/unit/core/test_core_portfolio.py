"""Reading the portfolio: good rows are kept, bad rows are named, bad files are refused."""

from pathlib import Path

import pytest

from rapport.portfolio import PortfolioError, read_portfolio, synthetic_debtor

HEADER = "ID,X1,X2,X3,X4,X5," + ",".join(f"X{i}" for i in range(6, 24)) + ",Y\n"


def _row(source_id: int, status: int = 2, bill: str = "5000", paid: str = "1000", limit: str = "1.00E+05") -> str:
    statuses = [str(status)] + ["0"] * 5
    bills = [bill] + ["4000"] * 5
    paids = [paid] + ["500"] * 5
    return ",".join([str(source_id), limit, "2", "2", "1", "30", *statuses, *bills, *paids, "1"]) + "\n"


def test_a_row_becomes_an_account_with_balance_days_past_due_and_history(tmp_path: Path):
    # Given a portfolio row two months late with a bill of 5,000 and 1,000 paid
    path = tmp_path / "p.csv"
    path.write_text(HEADER + _row(7))
    # When it is read
    result = read_portfolio(path)
    # Then the account carries the mapped figures and a synthetic debtor
    [account] = result.accounts
    assert account.account_id == "ACC-000007"
    assert account.balance_cents == 400_000
    assert account.days_past_due == 60
    assert account.credit_limit_cents == 10_000_000
    assert len(account.history) == 6 and account.in_arrears
    assert account.debtor.synthetic and account.debtor.email.endswith("@example.com")


def test_a_malformed_row_is_named_and_the_good_rows_are_kept(tmp_path: Path):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + _row(1) + _row(2, bill="lots") + _row(3))
    result = read_portfolio(path)
    assert [a.account_id for a in result.accounts] == ["ACC-000001", "ACC-000003"]
    [problem] = result.errors
    assert problem.row_number == 3 and problem.field == "X12"


def test_a_missing_file_and_an_unknown_layout_are_clear_errors(tmp_path: Path):
    with pytest.raises(PortfolioError, match="cannot open"):
        read_portfolio(tmp_path / "absent.csv")
    other = tmp_path / "other.csv"
    other.write_text("name,amount\nx,1\n")
    with pytest.raises(PortfolioError, match="unknown column layout, missing ID"):
        read_portfolio(other)


def test_the_same_id_always_gives_the_same_synthetic_debtor():
    assert synthetic_debtor(42) == synthetic_debtor(42)
    assert synthetic_debtor(42) != synthetic_debtor(43)
    assert synthetic_debtor(42).phone.startswith("+27") and len(synthetic_debtor(42).phone) == 12


def test_the_shipped_portfolio_has_6818_accounts_at_least_a_month_behind():
    path = Path(__file__).resolve().parents[3] / "data" / "uci-credit-card-default.csv"
    result = read_portfolio(path)
    assert result.rows_read == 30_000 and not result.errors
    assert sum(1 for account in result.accounts if account.in_arrears) == 6818
