"""Float arithmetic and math-module calls: a numerical integration and a Newton iteration."""
import math

KIND = "arith"
ENTRY = "run"
ARGS = (13_000,)


def run(n):
    h = 1.0 / n
    area = 0.0
    for i in range(n):
        x = (i + 0.5) * h
        area += math.sqrt(1.0 - x * x) * h + math.sin(x) * 1e-3
    root = 2.0
    for _ in range(n // 10):
        root = root - (root * root - 2.0) / (2.0 * root) + 1e-9
    return round(area * 4.0, 9), round(root, 9)
