"""Deep and branching recursion: naive Fibonacci and a recursive tree sum."""
KIND = "calls"
ENTRY = "run"
ARGS = (22, 12)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def tree(depth):
    if depth == 0:
        return 1
    return 1 + tree(depth - 1) + tree(depth - 1)


def run(n, depth):
    return fib(n), tree(depth)
