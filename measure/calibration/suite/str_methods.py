"""String methods: split, join, replace, upper/lower, find, startswith, strip."""
KIND = "strings"
ENTRY = "run"
ARGS = (900,)

TEXT = "  The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.  "


def run(n):
    count = 0
    for i in range(n):
        s = TEXT.strip()
        words = s.split()
        joined = "-".join(w.lower() for w in words)
        r = joined.replace("o", "0").upper()
        count += r.find("F0X") + len(words) + s.count("e")
        if r.startswith("THE"):
            count += 1
    return count
