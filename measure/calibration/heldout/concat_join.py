"""Build a CSV line with str.join over a generator (reference)."""
KIND = "strings"
ENTRY = "build"
ARGS = (20_000,)


def build(n):
    return len(",".join(str(i * 3) for i in range(n))) + 1
