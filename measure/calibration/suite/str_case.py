"""Case mapping and translation of strings: lower(), upper(), swapcase(), str.translate, isupper()."""
KIND = "strings"
ENTRY = "run"
ARGS = (40,)


def run(n):
    text = "".join(chr(65 + (i * 11) % 58) for i in range(4_000))
    table = str.maketrans("aeiouAEIOU", "AEIOUaeiou")
    total = 0
    for k in range(n):
        s = text[k:]
        total += len(s.lower()) + len(s.upper()) + len(s.swapcase()) + len(s.translate(table))
        total += sum(1 for c in s[:200] if c.isupper())
    return total
