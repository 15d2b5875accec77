"""Serialise records with json.dumps (reference)."""
import json

KIND = "json"
ENTRY = "dump"
ARGS = (400,)


def dump(n):
    records = [{"id": i, "name": "n%d" % i, "ok": i % 2 == 0, "vals": [i, i * 0.5]} for i in range(n)]
    return len(json.dumps(records))
