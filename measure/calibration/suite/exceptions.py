"""Exceptions: raise and catch, try/finally, custom exception classes, EAFP lookups."""
KIND = "exceptions"
ENTRY = "run"
ARGS = (10_000,)


class Invalid(ValueError):
    pass


def parse(i):
    if i % 4 == 0:
        raise Invalid(i)
    return i


def run(n):
    bad = 0
    table = {}
    for i in range(n):
        try:
            parse(i)
        except Invalid:
            bad += 1
        finally:
            bad += 0
        try:
            table[i % 10] += 1
        except KeyError:
            table[i % 10] = 1
    return bad, sum(table.values())
