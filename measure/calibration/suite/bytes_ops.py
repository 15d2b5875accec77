"""bytes and bytearray: building, slicing, XOR over bytes, hex round trips."""
KIND = "bytes"
ENTRY = "run"
ARGS = (500,)


def run(n):
    key = bytes(range(7, 39))
    buf = bytearray()
    check = 0
    for i in range(n):
        block = bytes((i * j) & 0xFF for j in range(32))
        mixed = bytes(a ^ b for a, b in zip(block, key))
        buf += mixed[:16]
        check = (check + int.from_bytes(mixed[8:12], "little")) % 1_000_003
        if i % 50 == 0:
            check ^= len(bytes.fromhex(mixed.hex()))
    return check, len(buf)
