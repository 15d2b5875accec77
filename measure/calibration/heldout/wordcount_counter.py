"""Word frequencies with collections.Counter and a regex tokenizer (reference)."""
import re
from collections import Counter

KIND = "regex"
ENTRY = "top_words"
ARGS = (400,)

WORDS = ("alpha beta gamma delta alpha epsilon beta alpha zeta eta theta alpha beta iota kappa "
         "lambda mu alpha nu xi omicron beta pi rho sigma tau gamma upsilon phi chi psi omega").split()


def top_words(n):
    text = " ".join(WORDS[(i * 13) % len(WORDS)].capitalize() + "," for i in range(n))
    counts = Counter(m.lower() for m in re.findall(r"[A-Za-z]+", text))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
