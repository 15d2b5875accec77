"""Classes: instance attribute reads and writes, method calls, a small object graph."""
KIND = "objects"
ENTRY = "run"
ARGS = (5_000,)


class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def add(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def dot(self, other):
        return self.x * other.x + self.y * other.y


def run(n):
    acc = Vec(0, 0)
    step = Vec(1, 2)
    total = 0
    for i in range(n):
        acc = acc.add(step)
        total += acc.dot(step) % 7
        acc.x = acc.x % 1000
    return total, acc.x, acc.y
