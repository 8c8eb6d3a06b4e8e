"""Training the drum GAN (``gan_drums``): the phrase sampler, WGAN-GP updates, validation.

A training phrase is ``phrase_bars`` (4) consecutive bars of one Groove ``beat`` take,
none of them silent. With probability ``fill_share`` (4/4 only) its last bar is replaced
by a fill: the last bar of a Groove ``fill`` take of the same style (a style without
fills in train borrows from all styles' fills). Groove's fills are separate short takes,
so the fill bar and the three bars before it come from different takes of one style.

Styles: those whose train ``beat`` takes hold at least ``MIN_STYLE_BARS`` bars (in
``info.csv`` order of their names); each batch draws ``styles_per_batch`` of them with
probability proportional to the square root of their bar counts (rock has 50x pop's
bars), the same number of phrases each.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ...errors import DeepcomposeError
from ...representations.drums import CLASSES, OUT_PITCH
from ..common.schedules import cosine_scheduler
from ..common.wgan import gradient_penalty, wgan_optimizers
from .net import (  # noqa: F401  (DEFAULT_CONFIG, TINY_CONFIG: the training API)
    DEFAULT_CONFIG,
    DEFAULT_STYLE,
    METERS,
    MIN_STYLE_BARS,
    N_METERS,
    TINY_CONFIG,
    Critic,
    Generator,
    T,
    critic_input,
    meter_of,
    sample_hits,
)
from .song_features import (
    COND,
    N_COND,
    centered,
    odd_share,
    ranks,
    tempo_feature,
    window_energy,
)

FLOOR = 0.1  # both learning rates fall on a cosine to this share over decay_steps


def padded_bars(perf) -> np.ndarray:
    """A take's whole bars, padded to ``T`` steps: ``[n, T, C, 3]``."""
    bars = perf.bars()
    out = np.zeros((len(bars), T, CLASSES, 3), np.float32)
    out[:, : bars.shape[1]] = bars[:, :T]
    return out


def fill_bar(perf) -> np.ndarray | None:
    """The fill of a ``fill`` take: its last bar with onsets, not counting a last bar that
    only holds the landing hit(s) on its downbeat. None when the take is silent."""
    L = perf.bar_steps
    n = -(-len(perf.hits) // L)
    roll = np.zeros((n * L, CLASSES, 3), np.float32)
    roll[: len(perf.hits)] = np.stack([perf.hits, perf.velocity, perf.offset], -1)
    bars = roll.reshape(n, L, CLASSES, 3)
    busy = [i for i in range(n) if bars[i, :, :, 0].sum() > 0]
    if not busy:
        return None
    last = busy[-1]
    if len(busy) > 1 and bars[last, 1:, :, 0].sum() == 0:
        last = busy[-2]
    out = np.zeros((T, CLASSES, 3), np.float32)
    out[: min(L, T)] = bars[last, :T]
    return out


N_BINS = 9  # condition bins of the profile term: 3 energy terciles x 3 tempo bands
TEMPO_BANDS = (math.log2(100 / 110), math.log2(137 / 110))  # under 100, 100-137, 137+ bpm


def cond_bin(song):
    """Song conditions ``[..., K]`` -> the profile term's bin ``[...]`` (0..8): energy
    tercile (under -1/3, to 1/3, above) x tempo band (``TEMPO_BANDS``). numpy or torch."""
    e, t = song[..., COND.index("energy")], song[..., COND.index("tempo")]
    lib = torch if isinstance(song, torch.Tensor) else np
    eb = (e >= -1 / 3).long() + (e >= 1 / 3).long() if lib is torch else \
        (e >= -1 / 3).astype(np.int64) + (e >= 1 / 3).astype(np.int64)
    tb = (t >= TEMPO_BANDS[0]).long() + (t >= TEMPO_BANDS[1]).long() if lib is torch else \
        (t >= TEMPO_BANDS[0]).astype(np.int64) + (t >= TEMPO_BANDS[1]).astype(np.int64)
    return eb * 3 + tb


def take_features(beat_takes) -> dict[int, tuple[float, float, float]]:
    """``id(take) -> (level, sync, tempo)`` (``song_features``): a take's onsets per beat and
    its share of onsets on odd 16ths, each ranked among the takes of its style, and its
    tempo."""
    by_style: dict[str, list] = {}
    for p in beat_takes:
        by_style.setdefault(p.style, []).append(p)
    out = {}
    for takes in by_style.values():
        dens, odd = [], []
        for p in takes:
            t, _ = np.nonzero(p.hits > 0.5)
            busy = max(int((p.bars()[..., 0].sum((1, 2)) > 0).sum()), 1)
            dens.append(len(t) / (busy * p.bar_steps / 4))
            odd.append(odd_share(t))
        for p, d, o in zip(takes, ranks(dens), ranks(odd), strict=True):
            out[id(p)] = (centered(d), centered(o), tempo_feature(p.bpm))
    return out


def bar_conditions(perf, bars: np.ndarray, take: tuple[float, float, float], window: int
                   ) -> np.ndarray:
    """``[n, K]`` song conditions of the ``window``-bar phrase starting at each bar of a take
    (``bars`` ``[n, T, C, 3]``): its energy among the take's windows, then the take's."""
    cond = np.zeros((len(bars), N_COND), np.float32)
    cond[:, COND.index("energy")] = window_energy(bars[..., 0].sum((1, 2)), window)
    for name, v in zip(("level", "sync", "tempo"), take, strict=True):
        cond[:, COND.index(name)] = v
    return cond


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over bar pairs of |hits in both| / |hits in either| (``[..., T, C]`` 0/1)."""
    both = (a * b).sum((-1, -2))
    either = ((a + b) > 0).sum((-1, -2))
    return float(np.mean(both[either > 0] / either[either > 0])) if (either > 0).any() else 1.0


class PhraseBank:
    """Bars of the train takes by (style, meter), fills by style, and their profiles."""

    def __init__(self, perfs, phrase_bars: int, styles: tuple[str, ...] | None = None):
        self.P = phrase_bars
        counts: dict[str, int] = {}
        for p in perfs:
            if p.beat_type == "beat" and meter_of(p.time_signature) is not None:
                counts[p.style] = counts.get(p.style, 0) + p.n_bars
        self.style_bars = dict(sorted(counts.items()))
        self.styles = styles or tuple(s for s, n in self.style_bars.items()
                                      if n >= MIN_STYLE_BARS)
        S = len(self.styles)
        bars: dict[tuple[int, int], list] = {}
        starts: dict[tuple[int, int], list] = {}
        conds: dict[tuple[int, int], list] = {}
        fills: dict[int, list] = {}
        takes = take_features([p for p in perfs if p.beat_type == "beat"
                               and p.style in self.styles
                               and meter_of(p.time_signature) is not None])
        for p in perfs:
            m = meter_of(p.time_signature)
            if p.style not in self.styles or m is None:
                continue
            s = self.styles.index(p.style)
            if p.beat_type == "fill":
                f = fill_bar(p) if m == 0 else None
                if f is not None:
                    fills.setdefault(s, []).append(f)
                continue
            b = padded_bars(p)
            busy = b[:, :, :, 0].sum((1, 2)) > 0  # [n]
            offset = sum(len(x) for x in bars.get((s, m), []))
            ok = [offset + i for i in range(len(b) - self.P + 1) if busy[i:i + self.P].all()]
            bars.setdefault((s, m), []).append(b)
            starts.setdefault((s, m), []).extend(ok)
            conds.setdefault((s, m), []).append(bar_conditions(p, b, takes[id(p)], self.P))
        self.bars = {k: np.concatenate(v) for k, v in bars.items()}
        self.cond = {k: np.concatenate(v) for k, v in conds.items()}
        self.starts = {k: np.asarray(v, np.int64) for k, v in starts.items() if v}
        self.own_fills = tuple(self.styles[s] for s in sorted(fills))
        all_fills = [f for v in fills.values() for f in v]
        self.fills = {s: np.stack(fills.get(s) or all_fills) for s in range(S)} if all_fills \
            else {}
        self.meters = {s: [m for m in range(N_METERS) if (s, m) in self.starts]
                       for s in range(S)}
        ok = [s for s in range(S) if 0 in self.meters[s]]
        w = np.array([math.sqrt(self.style_bars[self.styles[s]]) for s in ok])
        self.sample_styles, self.style_p = np.array(ok), w / w.sum()
        self.profiles()

    def profiles(self):
        """Mean hits and hits*velocity per (style, meter, fill, condition bin): ``[S, M, 2,
        N_BINS, T, C]``. A groove group's bin is its phrase's (``cond_bin``: energy tercile
        x tempo band), over every 4-bar training window; a fill group has one profile for
        all bins (fills are separate takes, played under any phrase)."""
        S = len(self.styles)
        self.tgt_h = np.zeros((S, N_METERS, 2, N_BINS, T, CLASSES), np.float32)
        self.tgt_v = np.zeros_like(self.tgt_h)
        self.have = np.zeros((S, N_METERS, 2, N_BINS), bool)
        for (s, m), b in self.bars.items():
            if (s, m) not in self.starts:
                continue
            h, hv = b[..., 0], b[..., 0] * b[..., 1]
            ch, cv = np.cumsum(h, 0), np.cumsum(hv, 0)  # window sums from prefix sums
            ch = np.concatenate([np.zeros_like(ch[:1]), ch])
            cv = np.concatenate([np.zeros_like(cv[:1]), cv])
            starts = self.starts[(s, m)]
            bins = cond_bin(self.cond[(s, m)][starts])
            for k in np.unique(bins):
                at = starts[bins == k]
                n = len(at) * self.P
                self.tgt_h[s, m, 0, k] = (ch[at + self.P] - ch[at]).sum(0) / n
                self.tgt_v[s, m, 0, k] = (cv[at + self.P] - cv[at]).sum(0) / n
                self.have[s, m, 0, k] = True
        for s, f in self.fills.items():
            self.tgt_h[s, 0, 1] = f[..., 0].mean(0)
            self.tgt_v[s, 0, 1] = (f[..., 0] * f[..., 1]).mean(0)
            self.have[s, 0, 1] = True

    def phrase(self, rng, s: int, fill_share: float, rare_share: float):
        """One phrase of style ``s``: ``([P, T, C, 3], fill [P], meter, song [P, K])``; the
        song conditions are the window's (a fill bar put in keeps them)."""
        rare = [m for m in self.meters[s] if m != 0]
        m = int(rng.choice(rare)) if rare and rng.random() < rare_share else 0
        i = int(rng.choice(self.starts[(s, m)]))
        x = self.bars[(s, m)][i:i + self.P].copy()
        song = np.repeat(self.cond[(s, m)][i:i + 1], self.P, 0)
        fill = np.zeros(self.P, np.float32)
        if m == 0 and s in self.fills and rng.random() < fill_share:
            x[-1] = self.fills[s][rng.integers(len(self.fills[s]))]
            fill[-1] = 1.0
        return x, fill, m, song

    def batch(self, rng, size: int, n_styles: int, fill_share: float, rare_share: float):
        """``x [B, P, T, C, 3]``, ``style [B]``, ``fill [B, P]``, ``meter [B, P]``, ``song
        [B, P, K]`` tensors."""
        n_styles = min(n_styles, len(self.sample_styles))
        chosen = rng.choice(self.sample_styles, n_styles, replace=False, p=self.style_p)
        styles = [int(chosen[i % n_styles]) for i in range(size)]
        xs, fills, meters, songs = zip(*(self.phrase(rng, s, fill_share, rare_share)
                                         for s in styles), strict=True)
        return (torch.from_numpy(np.stack(xs)), torch.tensor(styles),
                torch.from_numpy(np.stack(fills)),
                torch.tensor(meters)[:, None].expand(size, self.P).contiguous(),
                torch.from_numpy(np.stack(songs)))


class DrumTrainer:
    def __init__(self, cfg: dict, train: list, valid: list):
        self.cfg = cfg
        self.bank = PhraseBank(train, cfg["phrase_bars"])
        self.valid_bank = PhraseBank(valid, cfg["phrase_bars"], styles=self.bank.styles)
        S = len(self.bank.styles)
        self.modules = {"generator": Generator(cfg, S), "critic": Critic(cfg, S)}
        self.optimizers = wgan_optimizers(self.modules, cfg)
        self.schedulers = {name: cosine_scheduler(opt, cfg["decay_steps"], FLOOR)
                           for name, opt in self.optimizers.items()}
        self.tgt_h = torch.from_numpy(self.bank.tgt_h)
        self.tgt_v = torch.from_numpy(self.bank.tgt_v)
        self.have = torch.from_numpy(self.bank.have)

    def _batch(self, rng, bank=None):
        c = self.cfg
        return (bank or self.bank).batch(rng, c["batch"], c["styles_per_batch"],
                                         c["fill_share"], c["rare_meter_share"])

    def _generate(self, style, fill, meter, gen=None, song=None):
        G, c = self.modules["generator"], self.cfg
        B, P = fill.shape
        z_s = torch.randn(B, c["z_shared"], generator=gen)
        z_b = torch.randn(B, P, c["z_bar"], generator=gen)
        logits, vel, off = G(z_s, z_b, style, fill, meter, song)
        hits = sample_hits(logits, torch.rand(logits.shape, generator=gen),
                           c.get("binarize") == "deterministic")
        return logits, vel, critic_input(hits, vel, off, meter)

    def profile_loss(self, hits, vel, style, fill, meter, song):
        """Squared distance of the batch's mean hit rate (and hit*velocity) per (style,
        meter, fill, condition bin) group from the training data's, weighted by group size.
        ``hits`` are the sampled straight-through hits ``[B, P, T, C]``; ``song`` the
        conditions ``[B, P, K]`` (their bin: ``cond_bin``)."""
        B, P = fill.shape
        p = hits.reshape(B * P, T, CLASSES)
        g = (((style[:, None] * N_METERS + meter) * 2 + fill.long()) * N_BINS
             + cond_bin(song)).reshape(-1)  # [B*P]
        n_groups = self.have.numel()
        cnt = torch.bincount(g, minlength=n_groups).float()
        sum_h = torch.zeros(n_groups, T, CLASSES).index_add(0, g, p)
        sum_v = torch.zeros(n_groups, T, CLASSES).index_add(0, g, p * vel.reshape(B * P, T,
                                                                                    CLASSES))
        use = (cnt > 0) & self.have.reshape(-1)
        c = cnt[use][:, None, None]
        err = ((sum_h[use] / c - self.tgt_h.reshape(-1, T, CLASSES)[use]) ** 2
               + (sum_v[use] / c - self.tgt_v.reshape(-1, T, CLASSES)[use]) ** 2).sum((1, 2))
        return (err * cnt[use]).sum() / cnt[use].sum().clamp(min=1)

    def train_step(self, rng) -> dict:
        D = self.modules["critic"]
        c = self.cfg
        for _ in range(c["n_critic"]):
            real, style, fill, meter, song = self._batch(rng)
            real = critic_input(real[..., 0], real[..., 1], real[..., 2], meter)
            with torch.no_grad():
                fake = self._generate(style, fill, meter, song=song)[2]
            d_real = D(real, style, fill, meter, song)
            d_fake = D(fake, style, fill, meter, song)
            gp = gradient_penalty(lambda x, s=style, f=fill, m=meter, g=song: D(x, s, f, m, g),
                                  real, fake)
            loss = d_fake.mean() - d_real.mean() + c["gp"] * gp
            self.optimizers["critic"].zero_grad(set_to_none=True)
            loss.backward()
            self.optimizers["critic"].step()
        _, style, fill, meter, song = self._batch(rng)
        _, vel, fake = self._generate(style, fill, meter, song=song)
        adv = -D(fake, style, fill, meter, song).mean()
        fm = self.profile_loss(fake[..., 0], vel, style, fill, meter, song)
        self.optimizers["generator"].zero_grad(set_to_none=True)
        (adv + c["fm"] * fm).backward()
        self.optimizers["generator"].step()
        for scheduler in self.schedulers.values():
            scheduler.step()
        return {"w": float((d_real.mean() - d_fake.mean()).detach()), "gp": float(gp.detach()),
                "adv": float(adv.detach()), "fm": float(fm.detach())}

    @torch.no_grad()
    def validate(self) -> dict:
        """On the validation takes: critic gap, 4/4 onset-profile overlap of generated bars
        with each style's real profile (own, and mean over the other styles), densities,
        and bar-to-bar Jaccard similarity of hits (how well a groove holds)."""
        from ...metrics.drums import histogram_intersection

        G = self.modules["generator"]
        G.eval()
        gen = torch.Generator().manual_seed(1234)
        rng = np.random.default_rng(1234)
        vb = self.valid_bank
        real_prof, fake_prof, dens_r, dens_f, cons_r, cons_f = {}, {}, [], [], [], []
        for s in range(len(self.bank.styles)):
            if (s, 0) not in vb.bars:
                continue
            rb = vb.bars[(s, 0)]
            real_prof[s] = rb[..., 0].sum((0, 2))
            dens_r.append(rb[..., 0].sum() / (len(rb) * 4))
            n = 16
            fill = torch.zeros(n, self.cfg["phrase_bars"])
            meter = torch.zeros_like(fill, dtype=torch.long)
            _, _, x = self._generate(torch.full((n,), s), fill, meter, gen)
            fake_prof[s] = x[..., 0].sum((0, 1, 3)).numpy()
            h = x[..., 0].numpy()
            cons_f.append(jaccard(h[:, 1:], h[:, :-1]))
            cons_r.append(jaccard(rb[1:, :, :, 0], rb[:-1, :, :, 0]))
            dens_f.append(float(x[..., 0].sum()) / (x.shape[0] * x.shape[1] * 4))
        own, others = [], []
        for s in fake_prof:
            ov = {r: histogram_intersection(fake_prof[s], real_prof[r]) for r in real_prof}
            own.append(ov[s])
            others.append(np.mean([v for r, v in ov.items() if r != s]))
        real, style, fill, meter, song = self._batch(rng, vb if vb.sample_styles.size else None)
        real = critic_input(real[..., 0], real[..., 1], real[..., 2], meter)
        fake = self._generate(style, fill, meter, gen, song)[2]
        D = self.modules["critic"]
        w = float(D(real, style, fill, meter, song).mean()
                  - D(fake, style, fill, meter, song).mean())
        G.train()
        return {"w": w, "own_overlap": float(np.mean(own)),
                "margin": float(np.mean(np.array(own) - np.array(others))),
                "onsets_per_beat": float(np.mean(dens_f)),
                "bar_jaccard": float(np.mean(cons_f)), "real_bar_jaccard": float(np.mean(cons_r)),
                "real_onsets_per_beat": float(np.mean(dens_r))}

    @torch.no_grad()
    def sample_rolls(self, rng, n: int, real: bool = False) -> np.ndarray:
        """The sample hook (``deepcompose.train``): one drum track ``[n, 1, bars * T, 128]``
        (a hit sounds its class's General MIDI note for one 16th) of ``n`` 4/4 phrases
        sampled for validation phrases' styles, fills and song conditions, or training
        phrases (``real``)."""
        c = self.cfg
        bank = self.bank if real or not self.valid_bank.sample_styles.size else self.valid_bank
        x, style, fill, meter, song = bank.batch(rng, n, c["styles_per_batch"],
                                                 c["fill_share"], 0.0)
        hits = x[..., 0]
        if not real:
            G = self.modules["generator"]
            G.eval()
            hits = self._generate(style, fill, meter, song=song)[2][..., 0]
            G.train()
        hits = hits.numpy().reshape(n, -1, CLASSES) > 0  # [n, bars * T, C]
        rolls = np.zeros((n, 1, hits.shape[1], 128), dtype=bool)
        rolls[:, 0][..., OUT_PITCH] = hits
        return rolls

    def export(self):
        tensors = {f"gen.{k}": v for k, v in self.modules["generator"].state_dict().items()}
        tensors.update({f"critic.{k}": v
                        for k, v in self.modules["critic"].state_dict().items()})
        styles = self.bank.styles
        default = DEFAULT_STYLE if DEFAULT_STYLE in styles else max(
            styles, key=lambda s: self.bank.style_bars.get(s, 0))  # e.g. a subset of styles
        meta = {"styles": list(styles), "default_style": default,
                "meters": list(METERS), "style_bars": self.bank.style_bars,
                "fill_styles": list(self.bank.own_fills),
                "velocity_quantiles": self.velocity_quantiles()}
        return tensors, meta

    @torch.no_grad()
    def velocity_quantiles(self, phrases: int = 64, min_hits: int = 20) -> dict:
        """Velocity calibration for ``DrumKit``: per (style, class), the deciles of the
        generator's velocities on its sampled hits (4/4 phrases, last bar a fill) and of
        the training data's velocities, each ``[S, C, 11]`` in 0..1. A (style, class) with
        fewer than ``min_hits`` hits uses the class pooled over styles.

        Why: the generator can also satisfy the critic and the profile term by turning a
        doubtful hit down instead of removing it, and measured after 12,000 updates its
        velocities sat ~25 below Groove's (toms ~60 below). A monotone map from its
        velocity deciles to the data's keeps its accents (the order of velocities within a
        style and class) and restores Groove's dynamics."""
        G = self.modules["generator"]
        G.eval()
        gen = torch.Generator().manual_seed(4321)
        S, P = len(self.bank.styles), self.cfg["phrase_bars"]
        fake = [[[] for _ in range(CLASSES)] for _ in range(S)]
        real = [[[] for _ in range(CLASSES)] for _ in range(S)]
        fill = torch.zeros(phrases, P)
        fill[:, -1] = 1.0
        meter = torch.zeros(phrases, P, dtype=torch.long)
        for s in range(S):
            _, vel, x = self._generate(torch.full((phrases,), s), fill, meter, gen)
            hit = x[..., 0] > 0.5
            for c in range(CLASSES):
                fake[s][c] = vel[..., c][hit[..., c]].numpy()
            pools = [b for (st, _), b in self.bank.bars.items() if st == s]
            if s in self.bank.fills and self.bank.styles[s] in self.bank.own_fills:
                pools.append(self.bank.fills[s])
            for c in range(CLASSES):
                real[s][c] = np.concatenate([b[..., c, 1][b[..., c, 0] > 0] for b in pools])
        G.train()
        qs = np.linspace(0, 1, 11)

        def deciles(table):
            pooled = [np.concatenate([table[s][c] for s in range(S)]) for c in range(CLASSES)]
            out = np.zeros((S, CLASSES, 11))
            for s in range(S):
                for c in range(CLASSES):
                    v = table[s][c] if len(table[s][c]) >= min_hits else pooled[c]
                    out[s, c] = np.quantile(v, qs) if len(v) else qs
            return np.round(out, 4).tolist()

        return {"generated": deciles(fake), "data": deciles(real)}


# ---------------------------------------------------------------------- training hooks


def load_split(data: str, split: str) -> list:
    """Groove performances of one official split (``train``, ``valid``, ``test``)."""
    from ...data.groove import load_groove

    if data != "groove":
        raise DeepcomposeError(f"the drum GAN trains on --data groove, not {data!r}")
    return load_groove(split)


def augment_train(pieces: list) -> list:
    """No augmentation: Groove's microtiming and velocities are the signal; tempo does not
    enter a beat-based roll, and transposition means nothing for drums."""
    return pieces


def make_trainer(config: dict, train: list, valid: list):
    return DrumTrainer(config, train, valid)
