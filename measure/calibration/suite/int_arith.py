"""Integer arithmetic in a tight loop: +, *, %, //, shifts and comparisons on small ints."""
KIND = "arith"
ENTRY = "run"
ARGS = (15_000,)


def run(n):
    total = 0
    for i in range(n):
        x = (i * i + 3 * i) % 1009
        if x & 1:
            total += x // 3
        else:
            total -= x >> 2
    return total
