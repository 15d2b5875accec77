"""C-level reductions: sum() over lists of ints and floats, any()/all() over lists, len(range)."""
KIND = "c_loops"
ENTRY = "run"
ARGS = (40,)


def run(n):
    ints = [(i * 31) % 1_000 for i in range(4_000)]
    floats = [x * 0.25 for x in ints]
    flags = [x > 3 for x in ints]
    total = 0
    for k in range(n):
        total += sum(ints) + int(sum(floats)) + all(flags[k:k + 5]) + any(flags) + sum(ints[k:], k)
    return total
