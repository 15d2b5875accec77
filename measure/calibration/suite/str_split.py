"""Splitting strings: str.split on whitespace and on a separator, splitlines, and len of the parts."""
KIND = "strings"
ENTRY = "run"
ARGS = (25,)


def run(n):
    words = ["alpha", "be", "gamma", "d", "epsilon", "zeta12", "eta"]
    text = " ".join(words[i % 7] for i in range(2_000))
    csv = ",".join(words[i % 7] for i in range(1_000))
    lines = "\n".join(words[i % 7] * 3 for i in range(500))
    total = 0
    for k in range(n):
        total += len(text.split()) + len(csv.split(",")) + len(lines.splitlines()) + len(text[k:].split(" ", 50))
    return total
