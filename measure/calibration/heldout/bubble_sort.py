"""Bubble sort of a pseudo-random list (candidate)."""
KIND = "containers"
ENTRY = "sort"
ARGS = (300,)
REFERENCE = "builtin_sorted"


def sort(n):
    a = [(i * 7919) % 1009 for i in range(n)]
    for i in range(len(a)):
        swapped = False
        for j in range(len(a) - 1 - i):
            if a[j] > a[j + 1]:
                a[j], a[j + 1] = a[j + 1], a[j]
                swapped = True
        if not swapped:
            break
    return a[:5], a[-1]
