"""json: dumps and loads of nested records (the C accelerator where the build has it)."""
import json

KIND = "json"
ENTRY = "run"
ARGS = (10,)


def run(n):
    records = [{"id": i, "name": "item%d" % i, "tags": ["a", "b", str(i % 5)], "price": i * 0.25,
                "ok": i % 2 == 0, "child": {"x": i, "y": [1, 2, 3]}} for i in range(60)]
    size = 0
    for i in range(n):
        text = json.dumps(records, sort_keys=(i % 2 == 0))
        back = json.loads(text)
        size += len(text) + back[i % 60]["id"]
    return size
