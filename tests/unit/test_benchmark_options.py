"""`python -m benchmarks` parses its options (a merge once left two `--accounts` and broke every benchmark)."""

from benchmarks.__main__ import build_parser


def test_each_benchmark_parses_its_options() -> None:
    parser = build_parser()
    simulate = parser.parse_args(["simulate", "--accounts", "10000", "--days", "180", "--runs", "1"])
    assert (simulate.benchmark, simulate.accounts, simulate.days, simulate.runs) == ("simulate", 10000, 180, 1)
    inbox = parser.parse_args(["inbox", "--tasks", "1000"])
    assert (inbox.benchmark, inbox.tasks) == ("inbox", 1000)
    assert parser.parse_args([]).benchmark == "demo"
