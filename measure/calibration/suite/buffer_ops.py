"""Bulk buffer work done in C: slice assignment into a bytearray, bytes.find, repetition, joins of slices."""
KIND = "c_loops"
ENTRY = "run"
ARGS = (400,)


def run(n):
    size = 20_000
    buf = bytearray(size)
    hits = 0
    for i in range(n):
        step = i % 17 + 2
        buf[i % step::step] = bytes(len(range(i % step, size, step)))
        buf[i % 100:i % 100 + 64] = b"x" * 64
        hits += buf.find(b"xxxx", i % 50) + buf.count(b"\x00", 0, 4000)
        text = "ab" * 2000 + "needle"
        hits += text.find("needle") + len("-".join([text[:100]] * 20))
    return hits
