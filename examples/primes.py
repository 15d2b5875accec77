"""Bundled example: two ways to count primes below n."""


def count_primes_trial(n):
    """Trial division: O(n sqrt n)."""
    count = 0
    for k in range(2, n):
        d = 2
        while d * d <= k:
            if k % d == 0:
                break
            d += 1
        else:
            count += 1
    return count


def count_primes_sieve(n):
    """Sieve of Eratosthenes: O(n log log n)."""
    if n < 3:
        return 0
    sieve = bytearray([1]) * n
    sieve[0] = sieve[1] = 0
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytes(len(range(i * i, n, i)))
    return sum(sieve)
