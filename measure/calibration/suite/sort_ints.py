"""C-level sorting of plain ints and floats: sorted() and list.sort() without key functions."""
KIND = "c_loops"
ENTRY = "run"
ARGS = (10,)


def run(n):
    ints = [(i * 2654435761) % 1_000_003 for i in range(4_000)]
    floats = [x / 7.0 for x in ints[:1_000]]
    checksum = 0
    for k in range(n):
        a = sorted(ints[k:] + ints[:k])
        b = list(floats)
        b.sort(reverse=True)
        checksum += a[k] + int(b[k])
    return checksum
