"""Graph search: BFS and DFS over a dict-of-lists grid graph."""
from collections import deque

KIND = "containers"
ENTRY = "run"
ARGS = (60,)


def run(n):
    graph = {}
    for y in range(n):
        for x in range(n):
            nbrs = []
            if x + 1 < n and (x * y) % 7 != 3:
                nbrs.append((x + 1, y))
            if y + 1 < n:
                nbrs.append((x, y + 1))
            if x > 0:
                nbrs.append((x - 1, y))
            graph[(x, y)] = nbrs
    dist = {(0, 0): 0}
    q = deque([(0, 0)])
    while q:
        node = q.popleft()
        for nb in graph[node]:
            if nb not in dist:
                dist[nb] = dist[node] + 1
                q.append(nb)
    seen, stack = set(), [(n - 1, n - 1)]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(graph[node])
    return max(dist.values()), len(seen)
