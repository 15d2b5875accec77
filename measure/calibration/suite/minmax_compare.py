"""Rich comparison in C loops: max()/min() over lists of ints, floats and tuples, list equality."""
KIND = "c_loops"
ENTRY = "run"
ARGS = (12,)


def run(n):
    ints = [(i * 7919) % 100_003 for i in range(3_000)]
    floats = [x * 0.5 for x in ints]
    pairs = [(x % 97, x) for x in ints[:1_000]]
    total = 0
    for k in range(n):
        total += max(ints) - min(ints[k:]) + int(max(floats)) + max(pairs)[1]
        total += ints[k:] == ints[k:] and ints[: k + 1] < ints[1: k + 2]
    return total
