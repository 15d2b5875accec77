"""Regular expressions: findall, sub with a callback, match groups, split."""
import re

KIND = "regex"
ENTRY = "run"
ARGS = (270,)

LINE = "user=alice id=1042 email=alice@example.org; user=bob id=77 email=bob@test.net; code=XZ-993"
WORD = re.compile(r"(\w+)=([\w@.\-]+)")
NUM = re.compile(r"\d+")


def run(n):
    total = 0
    for i in range(n):
        pairs = WORD.findall(LINE)
        doubled = NUM.sub(lambda m: str(int(m.group()) * 2), LINE)
        parts = re.split(r"[;\s]+", doubled)
        m = re.search(r"code=([A-Z]+)-(\d+)", doubled)
        total += len(pairs) + len(parts) + int(m.group(2)) % 7
    return total
