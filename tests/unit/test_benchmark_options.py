"""`python -m benchmarks` parses its options (a merge once left two `--accounts` and broke every benchmark), and
describes the machine its figures come from."""

from benchmarks.__main__ import build_parser
from benchmarks.machine import describe


def test_each_benchmark_parses_its_options() -> None:
    parser = build_parser()
    simulate = parser.parse_args(["simulate", "--accounts", "10000", "--days", "180", "--runs", "1"])
    assert (simulate.benchmark, simulate.accounts, simulate.days, simulate.runs) == ("simulate", 10000, 180, 1)
    inbox = parser.parse_args(["inbox", "--tasks", "1000"])
    assert (inbox.benchmark, inbox.tasks) == ("inbox", 1000)
    assert parser.parse_args([]).benchmark == "demo"


def test_the_machine_is_described_with_its_speed_at_the_time() -> None:
    described = describe()
    assert "cores" in described
    assert "Python 3." in described
    speed = float(described.rsplit("reference loop ", 1)[1].removesuffix(" ms"))
    assert 1 <= speed <= 60_000  # a fixed loop of two million additions: milliseconds, not seconds or nothing
