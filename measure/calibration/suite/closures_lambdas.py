"""Closures, lambdas and higher-order builtins: map, filter, functools.reduce, partial."""
import functools

KIND = "calls"
ENTRY = "run"
ARGS = (10_000,)


def make_adder(k):
    def add(x):
        return x + k
    return add


def run(n):
    add3 = make_adder(3)
    mul = functools.partial(lambda a, b: a * b, 5)
    vals = list(map(add3, range(n)))
    odd = list(filter(lambda v: v & 1, vals))
    prod = functools.reduce(lambda a, b: (a + mul(b)) % 1_000_003, odd, 0)
    return len(odd), prod
