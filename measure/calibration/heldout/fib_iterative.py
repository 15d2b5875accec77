"""Fibonacci numbers mod a prime with a loop (reference)."""
KIND = "arith"
ENTRY = "fibs"
ARGS = (20,)


def fibs(n):
    out = []
    for k in range(n):
        a, b = 0, 1
        for _ in range(k):
            a, b = b, a + b
        out.append(a % 1_000_003)
    return out
