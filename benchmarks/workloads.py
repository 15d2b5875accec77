"""Workloads of the core benchmark: each takes n and does O(n) work of one kind."""
import numpy as np


def empty(n):
    return n


def loop(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


def sort(n):
    xs = [(i * 7919) % 10007 / 3.0 for i in range(n)]
    return sorted(xs)[n // 2]


def dict_ops(n):
    d = {}
    for i in range(n):
        d["k%d" % i] = i
    return sum(d["k%d" % i] for i in range(0, n, 3)) + len(set(d))


def strings(n):
    parts = []
    for i in range(n):
        parts.append(f"{i:05d}-{i % 13}")
    return len(",".join(parts))


def numpy_call(n):
    a = np.arange(n, dtype=np.float64)
    return float(np.sort(a[::-1]).dot(a))
