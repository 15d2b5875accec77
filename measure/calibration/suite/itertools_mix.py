"""itertools: product, permutations, combinations, accumulate, groupby, chain, islice."""
import itertools

KIND = "iteration"
ENTRY = "run"
ARGS = (7,)


def run(n):
    total = 0
    for p in itertools.permutations(range(n)):
        if p[0] < p[-1]:
            total += 1
    total += sum(1 for c in itertools.combinations(range(2 * n + 4), 4) if sum(c) % 3 == 0)
    total += sum(a * b for a, b in itertools.product(range(60), repeat=2))
    acc = list(itertools.accumulate(range(2000)))
    groups = [(k, len(list(g))) for k, g in itertools.groupby(sorted(x % 9 for x in acc))]
    total += len(list(itertools.islice(itertools.chain(acc, acc), 10, 3000, 3)))
    return total, groups[0]
