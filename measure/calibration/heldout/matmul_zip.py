"""Matrix product with zip over the transposed matrix and sum() (reference)."""
KIND = "iteration"
ENTRY = "matmul"
ARGS = (32,)


def matmul(n):
    a = [[(i + 2 * j) % 9 for j in range(n)] for i in range(n)]
    b = [[(3 * i + j) % 7 for j in range(n)] for i in range(n)]
    bt = list(zip(*b))
    c = [[sum(x * y for x, y in zip(row, col)) for col in bt] for row in a]
    return sum(map(sum, c))
