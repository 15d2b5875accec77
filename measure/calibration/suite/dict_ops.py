"""dict: insertion, lookup with get, update, deletion, iteration over items."""
KIND = "containers"
ENTRY = "run"
ARGS = (13_000,)


def run(n):
    d = {}
    for i in range(n):
        key = i % 2003
        d[key] = d.get(key, 0) + i
        if i % 5 == 0 and (key + 1) in d:
            del d[key + 1]
    total = 0
    for k, v in d.items():
        total += k * (v % 11)
    return total, len(d)
