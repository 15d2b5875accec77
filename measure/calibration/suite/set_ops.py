"""set: add, membership, union, intersection, difference on integer and string sets."""
KIND = "containers"
ENTRY = "run"
ARGS = (13_000,)


def run(n):
    seen = set()
    names = set()
    hits = 0
    for i in range(n):
        v = (i * 7919) % 4099
        if v in seen:
            hits += 1
        seen.add(v)
        if i % 200 == 0:
            names.add(str(v))
            small = set(range(v % 50, v % 50 + 30))
            hits += len(small & seen) + len(small | {1, 2, 3}) - len(small - seen)
    return hits, len(seen), len(names)
