"""Searching strings in C: str.find, str.count, the in operator and str.startswith on long strings."""
KIND = "strings"
ENTRY = "run"
ARGS = (200,)


def run(n):
    text = "".join(chr(97 + (i * 7) % 23) for i in range(6_000)) + "needle"
    total = 0
    for k in range(n):
        total += text.find("needle") + text.count("ab") + ("zz" in text) + text.count(chr(97 + k % 23))
        total += text.rfind("q", 0, 3_000 + k) + text[k:].startswith("abc")
    return total
