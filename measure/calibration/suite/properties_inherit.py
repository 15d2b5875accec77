"""Inheritance, super(), properties, __slots__ and isinstance checks."""
KIND = "objects"
ENTRY = "run"
ARGS = (3_600,)


class Shape:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def area(self):
        return 0


class Rect(Shape):
    __slots__ = ("w", "h")

    def __init__(self, w, h):
        super().__init__("rect")
        self.w = w
        self.h = h

    @property
    def size(self):
        return self.w * self.h

    def area(self):
        return self.size


class Square(Rect):
    __slots__ = ()

    def __init__(self, s):
        super().__init__(s, s)


def run(n):
    total = 0
    for i in range(n):
        s = Square(i % 13) if i % 3 else Rect(i % 7, i % 5)
        if isinstance(s, Square):
            total += s.area() * 2
        else:
            total += s.area()
    return total
