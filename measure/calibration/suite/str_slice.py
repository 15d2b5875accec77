"""Slicing strings: reversal with [::-1], stepped and plain slices, and comparing the slices."""
KIND = "strings"
ENTRY = "run"
ARGS = (240,)


def run(n):
    text = "".join(chr(97 + (i * 13) % 26) for i in range(5_000))
    total = 0
    for k in range(n):
        r = text[::-1]
        s = text[k::3]
        total += (r == text) + len(s) + (text[k:k + 2_000] == r[k:k + 2_000]) + len(text[:k] + r[:k])
    return total
