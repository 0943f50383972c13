"""Describe the machine a benchmark ran on, so figures are never quoted without it."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

REFERENCE_LOOP = 2_000_000


def describe() -> str:
    cpu = platform.processor() or "unknown cpu"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    system = f"{platform.system()} {platform.machine()}"
    python = f"Python {platform.python_version()}"
    return f"{system}, {cpu}, {os.cpu_count()} cores{memory}, {python}, reference loop {reference_ms():.0f} ms"


def reference_ms(repeats: int = 5) -> float:
    """Milliseconds a fixed pure-Python loop takes here now (median of `repeats`). The same kind of machine runs
    it a quarter faster or slower from one day to the next (a shared host's cores), so figures from different
    sessions are set side by side through it, never raw."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        total = 0
        for number in range(REFERENCE_LOOP):
            total += number % 7
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000
