"""Creating ints in C: list(range()), list(map(abs, ...)), enumerate into a list, and list slicing copies."""
KIND = "c_loops"
ENTRY = "run"
ARGS = (15,)


def run(n):
    total = 0
    for k in range(n):
        a = list(range(k, k + 3_000))
        b = list(map(abs, range(-1_500, 1_500)))
        c = list(enumerate(a[:500]))
        total += a[-1] + b[k] + c[-1][1] + len(a[::2])
    return total
