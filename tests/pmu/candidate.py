"""The Python candidate counted in the arm64 guest (perf) and on the host (valgrind): a dict-heavy
loop whose work grows with n. Standard library only."""


def tally(n):
    counts = {}
    for i in range(n):
        key = (i * 7919) % 101
        counts[key] = counts.get(key, 0) + i
    return sorted(counts.items())[:3]
