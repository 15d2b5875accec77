"""Generators: yield pipelines, generator expressions consumed by sum/any, send()."""
KIND = "iteration"
ENTRY = "run"
ARGS = (18_000,)


def numbers(n):
    for i in range(n):
        yield i


def evens(it):
    for x in it:
        if x % 2 == 0:
            yield x


def squared(it):
    for x in it:
        yield x * x


def averager():
    total, count = 0, 0
    avg = None
    while True:
        x = yield avg
        total += x
        count += 1
        avg = total // count


def run(n):
    s = sum(squared(evens(numbers(n))))
    found = any(x > n * 10 for x in squared(numbers(n)))
    g = averager()
    next(g)
    last = 0
    for i in range(n // 4):
        last = g.send(i)
    return s % 1_000_003, found, last
