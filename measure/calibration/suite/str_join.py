"""Joining strings: str.join over lists and generators, and str() of small ints."""
KIND = "strings"
ENTRY = "run"
ARGS = (35,)


def run(n):
    words = [("w%d" % (i % 97)) * (1 + i % 5) for i in range(2_000)]
    total = 0
    for k in range(n):
        s = "".join(words)
        t = ", ".join(words[k:])
        u = "-".join(map(str, range(k, k + 300)))
        total += len(s) + len(t) + len(u)
    return total
