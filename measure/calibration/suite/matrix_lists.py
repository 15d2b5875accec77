"""Nested lists as matrices: a pure-Python matrix product and transpose."""
KIND = "arith"
ENTRY = "run"
ARGS = (35,)


def run(n):
    a = [[(i * j) % 7 + 1 for j in range(n)] for i in range(n)]
    b = [[(i + j) % 5 for j in range(n)] for i in range(n)]
    c = [[0] * n for _ in range(n)]
    for i in range(n):
        ai = a[i]
        ci = c[i]
        for k in range(n):
            aik = ai[k]
            bk = b[k]
            for j in range(n):
                ci[j] += aik * bk[j]
    t = [list(row) for row in zip(*c)]
    return sum(map(sum, c)), t[1][2]
