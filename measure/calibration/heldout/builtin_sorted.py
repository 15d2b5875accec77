"""Sort a pseudo-random list with sorted() (reference)."""
KIND = "containers"
ENTRY = "sort"
ARGS = (300,)


def sort(n):
    a = sorted((i * 7919) % 1009 for i in range(n))
    return a[:5], a[-1]
