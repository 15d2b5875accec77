"""String formatting: f-strings with format specs, %-formatting and str.format."""
KIND = "strings"
ENTRY = "run"
ARGS = (1_600,)


def run(n):
    length = 0
    for i in range(n):
        a = f"{i:>8d}|{i / 7:.3f}|{i:x}"
        b = "%s-%05d-%r" % ("id", i, i % 10)
        c = "{0}:{1:,}".format(i % 97, i * 1001)
        length += len(a) + len(b) + len(c)
    return length
