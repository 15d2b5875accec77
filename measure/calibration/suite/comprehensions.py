"""List, dict and set comprehensions with conditions and nesting."""
KIND = "iteration"
ENTRY = "run"
ARGS = (250,)


def run(n):
    total = 0
    for r in range(n // 10):
        squares = [i * i for i in range(n) if i % 3]
        index = {i: i % 17 for i in range(0, n, 2)}
        pairs = {(i % 11, j % 7) for i in range(30) for j in range(30)}
        total += len(squares) + sum(index.values()) + len(pairs)
    return total
