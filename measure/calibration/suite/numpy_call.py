"""numpy: array creation, vectorised arithmetic, a matrix product and reductions (needs numpy)."""
import numpy as np

KIND = "numpy"
ENTRY = "run"
ARGS = (250,)
REQUIRES = ("numpy",)


def run(n):
    total = 0.0
    for i in range(n):
        a = np.arange(400, dtype=np.float64).reshape(20, 20) + i
        b = a @ a.T
        total += float(np.sqrt(b).sum() % 1000) + float(np.mean(a[::2]))
    return round(total, 6)
