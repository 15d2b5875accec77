"""C-level loops over containers: membership in a list, list.index, list.count, min/max/sum of a list."""
KIND = "c_loops"
ENTRY = "run"
ARGS = (70,)


def run(n):
    items = [(i * 7919) % 5003 for i in range(1500)]
    found = 0
    for q in range(n):
        if q * 3 in items:
            found += items.index(q * 3)
        found += items.count(q % 50)
    return found, min(items), max(items), sum(items)
