"""Valid NLL per note: the melody transformer against an order-3 n-gram on the same tokens.

    python benchmarks/melody_ngram.py [--styles pop,folk,classical] [--json out.json]

Both read each validation line in the same chunks (``models/melody/scoring.chunks``:
whole bars within the model's window, ``BOS STYLE`` then bar tokens, no chords) and count
every token after the style token; the sum is divided by the number of notes (nats per
note). The n-gram is trained per style on the training lines' chunks: interpolated
absolute discounting (d = 0.75) from trigrams to bigrams to unigrams to uniform over the
vocabulary, so it never gives a token zero probability.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deepcompose.data.melody_lines import load_lines  # noqa: E402
from deepcompose.models.common.weights import get_model  # noqa: E402
from deepcompose.models.melody.scoring import chunks  # noqa: E402
from deepcompose.representations.melody_tokens import Vocab  # noqa: E402

DISCOUNT = 0.75


class NGram:
    """Interpolated absolute-discount n-gram of order ``n`` over token ids."""

    def __init__(self, n: int = 3):
        self.n = n
        self.counts = [defaultdict(Counter) for _ in range(n)]  # order k: context -> next

    def fit(self, seqs) -> NGram:
        for seq in seqs:
            for i in range(1, len(seq)):
                for k in range(self.n):
                    if i - k >= 0:
                        self.counts[k][tuple(seq[i - k:i])][seq[i]] += 1
        return self

    def prob(self, ctx: tuple, tok: int) -> float:
        p = 1.0 / Vocab.SIZE
        for k in range(self.n):
            if k > len(ctx):
                break
            c = self.counts[k].get(tuple(ctx[len(ctx) - k:]) if k else ())
            if not c:
                continue
            total = sum(c.values())
            p = max(c[tok] - DISCOUNT, 0) / total + DISCOUNT * len(c) / total * p
        return p

    def nll(self, seq) -> float:
        """Nats of every token after the first two (BOS and the style token)."""
        return -sum(math.log(self.prob(tuple(seq[max(0, i - self.n + 1):i]), seq[i]))
                    for i in range(2, len(seq)))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--styles", default="pop,folk,classical")
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)
    player = get_model("melody")
    window = player.model.cfg["window"]
    report = {}
    print("| style | valid lines | notes | melody transformer (nats/note) | order-3 n-gram | |")
    print("|---|---|---|---|---|---|")
    for style in args.styles.split(","):
        train = [t for line in load_lines(style, "train") for t, _ in chunks(line, window)]
        gram = NGram(3).fit(train)
        valid = list(load_lines(style, "valid"))
        pieces = [c for line in valid for c in chunks(line, window)]
        notes = sum(n for _, n in pieces)
        ngram = sum(gram.nll(t) for t, _ in pieces) / notes
        model = player.nll(valid)["nll_per_note"]
        report[style] = {"lines": len(valid), "notes": notes, "model": model, "ngram": ngram}
        print(f"| {style} | {len(valid)} | {notes} | {model:.3f} | {ngram:.3f} | "
              f"{'PASS' if model < ngram else 'FAIL'} |")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
