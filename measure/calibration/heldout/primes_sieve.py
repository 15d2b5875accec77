"""Count primes below n with a sieve of Eratosthenes over a bytearray (reference)."""
KIND = "containers"
ENTRY = "count_primes"
ARGS = (6_000,)


def count_primes(n):
    sieve = bytearray([1]) * n
    sieve[0] = sieve[1] = 0
    i = 2
    while i * i < n:
        if sieve[i]:
            sieve[i * i::i] = bytes(len(range(i * i, n, i)))
        i += 1
    return sum(sieve)
