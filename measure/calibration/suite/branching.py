"""Branch-heavy while loops: Collatz sequence lengths."""
KIND = "arith"
ENTRY = "run"
ARGS = (550,)


def run(n):
    longest, arg = 0, 0
    for start in range(1, n):
        x, steps = start, 0
        while x != 1:
            if x % 2 == 0:
                x //= 2
            else:
                x = 3 * x + 1
            steps += 1
        if steps > longest:
            longest, arg = steps, start
    return longest, arg
