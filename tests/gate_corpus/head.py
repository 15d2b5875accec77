"""Planted-regression corpus, candidate side.

``pct_P`` does the baseline's loop ``n * P / 100`` extra times (n = 10000), so its count is about
P % higher; ``same`` is unchanged; ``rewrite`` is the baseline's ``rewrite`` rewritten (other
names, another layout, comments) into the same bytecode, so its count is exactly equal.
"""


def same(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def pct_0_5(n):
    total = 0
    for i in range(n + n // 200):
        total += i * i % 7
    return total


def pct_1(n):
    total = 0
    for i in range(n + n // 100):
        total += i * i % 7
    return total


def pct_2(n):
    total = 0
    for i in range(n + n // 50):
        total += i * i % 7
    return total


def pct_5(n):
    total = 0
    for i in range(n + n // 20):
        total += i * i % 7
    return total


def pct_20(n):
    total = 0
    for i in range(n + n // 5):
        total += i * i % 7
    return total


def rewrite(count):
    # same arithmetic, other names: the bytecode (and so the count) is identical
    acc = 0
    for k in range(count):
        acc += (k * k) % 7
    return acc


BENCHMARKS = {"same": same, "pct_0_5": pct_0_5, "pct_1": pct_1, "pct_2": pct_2, "pct_5": pct_5, "pct_20": pct_20,
              "rewrite": rewrite}


def run(name, n):
    """The suites' entry point: one worker measures every benchmark of the file (same overhead on both sides)."""
    return BENCHMARKS[name](n)
