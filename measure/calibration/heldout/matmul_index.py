"""Matrix product with index arithmetic on nested lists (candidate)."""
KIND = "arith"
ENTRY = "matmul"
ARGS = (32,)
REFERENCE = "matmul_zip"


def matmul(n):
    a = [[(i + 2 * j) % 9 for j in range(n)] for i in range(n)]
    b = [[(3 * i + j) % 7 for j in range(n)] for i in range(n)]
    c = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            s = 0
            for k in range(n):
                s += a[i][k] * b[k][j]
            c[i][j] = s
    return sum(map(sum, c))
