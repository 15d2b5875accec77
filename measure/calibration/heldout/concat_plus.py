"""Build a CSV line by repeated += on a string (candidate)."""
KIND = "strings"
ENTRY = "build"
ARGS = (20_000,)
REFERENCE = "concat_join"


def build(n):
    s = ""
    for i in range(n):
        s += str(i * 3) + ","
    return len(s)
