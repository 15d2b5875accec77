"""Many small Python function calls with positional and keyword arguments."""
KIND = "calls"
ENTRY = "run"
ARGS = (9_000,)


def add(a, b):
    return a + b


def scale(x, factor=2):
    return x * factor


def combine(a, b, *, bias=0):
    return add(a, b) + bias


def run(n):
    acc = 0
    for i in range(n):
        acc = combine(scale(i), add(acc, 1), bias=-1) % 100003
    return acc
