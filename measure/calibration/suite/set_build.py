"""Building sets from strings and lists (set(), set.add in C, set equality) and len(set(...))."""
KIND = "c_loops"
ENTRY = "run"
ARGS = (20,)


def run(n):
    text = "".join(chr(97 + (i * 7) % 26) for i in range(3_000))
    nums = [(i * 37) % 1_500 for i in range(3_000)]
    total = 0
    for k in range(n):
        a = set(text[k:])
        b = set(nums[k:])
        total += len(a) + len(b) + (set(text[:k + 100]) == set(text[k:k + 100]))
    return total
