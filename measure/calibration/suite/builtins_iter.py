"""Builtins over iterables: zip, enumerate, min/max/sum with keys, tuple unpacking, sorted/reversed."""
KIND = "iteration"
ENTRY = "run"
ARGS = (30,)


def run(n):
    xs = list(range(500))
    ys = [(i * 37) % 101 for i in range(500)]
    acc = 0
    for r in range(n):
        for i, (a, b) in enumerate(zip(xs, ys)):
            if i % 50 == 0:
                acc += a * b
        acc += max(ys, key=lambda v: -v) + min(xs) + sum(ys) % 13
        acc += len(list(reversed(xs[: r % 50])))
    return acc
