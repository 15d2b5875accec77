"""Word frequencies with a dict, lower() and strip() per token, then the top 5 by a manual scan (candidate)."""
KIND = "strings"
ENTRY = "top_words"
ARGS = (400,)
REFERENCE = "wordcount_counter"

WORDS = ("alpha beta gamma delta alpha epsilon beta alpha zeta eta theta alpha beta iota kappa "
         "lambda mu alpha nu xi omicron beta pi rho sigma tau gamma upsilon phi chi psi omega").split()


def top_words(n):
    text = " ".join(WORDS[(i * 13) % len(WORDS)].capitalize() + "," for i in range(n))
    counts = {}
    for tok in text.split(" "):
        w = tok.strip(",.").lower()
        if w in counts:
            counts[w] += 1
        else:
            counts[w] = 1
    top = []
    items = list(counts.items())
    for _ in range(5):
        best = None
        for kv in items:
            if kv not in top and (best is None or kv[1] > best[1] or (kv[1] == best[1] and kv[0] < best[0])):
                best = kv
        top.append(best)
    return top
