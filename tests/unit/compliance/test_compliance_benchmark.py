"""The benchmark runs end to end and accounts for every contact (its timings are printed, not asserted)."""

from rapport.compliance.benchmark import run_benchmark


def test_benchmark_judges_every_contact():
    # Given a small seeded run
    result = run_benchmark(contacts=200, seed=11, spread_days=30)
    # Then every contact got exactly one outcome, and the figures are there to print
    assert sum(result.outcomes.values()) == 200
    assert set(result.outcomes) <= {"allow", "defer", "refuse"}
    assert result.evaluate_seconds > 0
    print(f"{result.evaluations_per_second:,.0f} evaluations/s on this machine")
