"""List operations: append, pop, insert at the end, slicing, index, reverse, extend."""
KIND = "containers"
ENTRY = "run"
ARGS = (25_000,)


def run(n):
    stack = []
    total = 0
    for i in range(n):
        stack.append(i)
        if i % 3 == 0:
            total += stack.pop()
        if len(stack) > 64:
            head = stack[:8]
            stack = stack[32:]
            stack.extend(head)
            stack.reverse()
    return total, len(stack), sum(stack[:10])
