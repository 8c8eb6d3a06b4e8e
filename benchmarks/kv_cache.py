"""KV-cache sampling vs recomputing the whole context, per generated token.

At a context of ``--context`` tokens (default 512, the shipped window), time
(a) one cached decoding step: the new token attends to the cached keys/values, and
(b) one full forward pass over the whole context, which is what sampling without a
cache does for every token. Prints milliseconds per token and the speed-up.

    python benchmarks/kv_cache.py [--context 512] [--tokens 64] [--threads 1]
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    import torch

    from deepcompose.models.common.weights import read_meta
    from deepcompose.models.registry import WEIGHTS_DIR
    from deepcompose.models.transformer.net import (
        BOS_ID,
        DEFAULT_CONFIG,
        VOCAB,
        KVCache,
        MusicTransformer,
    )

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--context", type=int, default=512)
    ap.add_argument("--tokens", type=int, default=64, help="timed tokens per method")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    meta_path = WEIGHTS_DIR / "transformer.json"
    cfg = {**DEFAULT_CONFIG, **(read_meta(meta_path)["config"] if meta_path.exists() else {})}
    model = MusicTransformer(cfg).eval()  # speed does not depend on the weight values
    n, T = args.tokens, args.context
    ids = torch.randint(0, VOCAB - 1, (1, T + n))
    ids[0, 0] = BOS_ID
    phase = torch.zeros(1, dtype=torch.long)

    with torch.no_grad():
        # (a) cached: fill T - n positions, then time n single-token steps up to T
        cache = KVCache(cfg, 1, T)
        model(ids[:, : T - n], phase, cache)
        t0 = time.perf_counter()
        for j in range(T - n, T):
            model(ids[:, j : j + 1], phase, cache)
        cached = (time.perf_counter() - t0) / n
        # (b) recompute: a full forward over the T-token context for every new token
        model(ids[:, :T], phase)  # warm-up
        t0 = time.perf_counter()
        for j in range(n):
            model(ids[:, j : j + T], phase)
        full = (time.perf_counter() - t0) / n

    print(f"context {T} tokens, {args.threads} thread(s), d_model {cfg['d_model']}, "
          f"{cfg['n_layer']} layers")
    print(f"kv-cache  {cached * 1e3:8.2f} ms/token")
    print(f"recompute {full * 1e3:8.2f} ms/token")
    print(f"speed-up  {full / cached:8.1f}x")


if __name__ == "__main__":
    main()
