"""Character-level string work: indexing, ord/chr, a Caesar cipher and a palindrome scan."""
KIND = "strings"
ENTRY = "run"
ARGS = (8_000,)


def run(n):
    text = "".join(chr(97 + (i * 7) % 26) for i in range(n))
    shifted = []
    for ch in text:
        shifted.append(chr((ord(ch) - 97 + 3) % 26 + 97))
    s = "".join(shifted)
    pal = 0
    for i in range(1, len(s) - 1):
        if s[i - 1] == s[i + 1]:
            pal += 1
    return pal, s[:10]
