"""Serialise records to JSON text by hand with string formatting (candidate)."""
KIND = "strings"
ENTRY = "dump"
ARGS = (400,)
REFERENCE = "json_dumps"


def enc(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(enc(x) for x in v) + "]"
    return "{" + ", ".join(enc(k) + ": " + enc(x) for k, x in v.items()) + "}"


def dump(n):
    records = [{"id": i, "name": "n%d" % i, "ok": i % 2 == 0, "vals": [i, i * 0.5]} for i in range(n)]
    return len(enc(records))
