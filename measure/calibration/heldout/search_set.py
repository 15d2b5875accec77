"""Membership queries against a set (reference)."""
KIND = "containers"
ENTRY = "hits"
ARGS = (500,)


def hits(n):
    items = {(i * 37) % (4 * n) for i in range(n)}
    return sum(1 for q in range(0, 4 * n, 3) if q in items)
