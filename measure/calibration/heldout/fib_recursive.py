"""Fibonacci numbers mod a prime by plain recursion over a range of n (candidate)."""
KIND = "calls"
ENTRY = "fibs"
ARGS = (20,)
REFERENCE = "fib_iterative"


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def fibs(n):
    return [fib(k) % 1_000_003 for k in range(n)]
