"""Sorting: sorted() with key functions over tuples, list.sort, and a stable multi-key sort."""
KIND = "containers"
ENTRY = "run"
ARGS = (3_000,)


def run(n):
    data = [((i * 2654435761) % 10007, i % 13, str(i % 101)) for i in range(n)]
    a = sorted(data)
    b = sorted(data, key=lambda t: (t[1], -t[0]))
    c = [t[2] for t in data]
    c.sort(key=len)
    return a[0], b[-1], c[len(c) // 2]
