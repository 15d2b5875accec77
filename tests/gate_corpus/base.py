"""Planted-regression corpus, baseline side: seven benchmarks doing the same work.

Each function runs the same loop ``n`` times (``n = 10000`` in the suites). head.py runs it a
few more times per function, so the instruction counts differ by known amounts; see
tests/gate_corpus/README.md.
"""


def same(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def pct_0_5(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def pct_1(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def pct_2(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def pct_5(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def pct_20(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def rewrite(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


BENCHMARKS = {"same": same, "pct_0_5": pct_0_5, "pct_1": pct_1, "pct_2": pct_2, "pct_5": pct_5, "pct_20": pct_20,
              "rewrite": rewrite}


def run(name, n):
    """The suites' entry point: one worker measures every benchmark of the file (same overhead on both sides)."""
    return BENCHMARKS[name](n)
