"""Multiplying large integers (Karatsuba range) and squaring: products of many-digit numbers."""
KIND = "bigint"
ENTRY = "run"
ARGS = (25,)


def run(n):
    a = 3 ** 4_000 + 12345
    b = 7 ** 3_000 + 67890
    total = 0
    for k in range(n):
        c = (a + k) * (b - k)
        d = (a - k) * (a + k)
        total ^= (c ^ d) & 0xFFFFFFFF
    return total
