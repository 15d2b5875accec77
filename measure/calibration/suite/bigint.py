"""Big integers: factorial, powers, modular exponentiation, divmod and conversion to decimal."""
KIND = "bigint"
ENTRY = "run"
ARGS = (1_500,)


def run(n):
    f = 1
    for i in range(2, n):
        f *= i
    p = pow(3, n * 20)
    q, r = divmod(p, f // (n * n) + 1)
    m = pow(7, 10 ** 40 + n, 2 ** 521 - 1)
    return len(str(f)), q.bit_length(), r % 1_000_007, m % 1_000_007
