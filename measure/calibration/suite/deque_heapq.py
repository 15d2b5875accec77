"""collections.deque and heapq: a sliding window, a priority queue, and Counter."""
import heapq
from collections import Counter, deque

KIND = "containers"
ENTRY = "run"
ARGS = (6_000,)


def run(n):
    window = deque(maxlen=50)
    heap = []
    total = 0
    for i in range(n):
        v = (i * 48271) % 2147
        window.append(v)
        heapq.heappush(heap, v)
        if len(heap) > 100:
            total += heapq.heappop(heap)
        if i % 1000 == 0:
            total += sum(window)
    counts = Counter(v % 10 for v in heap)
    return total, counts.most_common(1)[0]
