"""Training the GAN: WGAN-GP plus supervised cross-entropy (see ``composer.py``)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ...metrics.training import parallels
from ...representations.voices import REST, Meter
from ..common.samples import grid_windows, unwrap, written
from ..common.schedules import cosine_scheduler, current_lr
from ..common.wgan import gradient_penalty, wgan_optimizers
from .net import (  # noqa: F401  (DEFAULT_CONFIG, TINY_CONFIG: the training API)
    DEFAULT_CONFIG,
    PARTS,
    STEPS_PER_FRAME,
    TINY_CONFIG,
    Critic,
    Generator,
    from_index,
    guess_meter,
    known_input,
    mix_known,
    piece_frames,
    window_onehot,
)

FLOOR = 0.05  # both learning rates fall on a cosine to this share over decay_steps


class GanTrainer:
    """WGAN-GP + supervised cross-entropy on random windows of (augmented) chorales."""

    def __init__(self, cfg: dict, train: list[np.ndarray], valid: list[np.ndarray]):
        self.cfg = cfg
        self.modules = {"generator": Generator(cfg), "critic": Critic(cfg)}
        self.optimizers = wgan_optimizers(self.modules, cfg)
        self.schedulers = {name: cosine_scheduler(opt, cfg["decay_steps"], FLOOR)
                           for name, opt in self.optimizers.items()}
        self.train = self._frames(train)
        self.grids = {True: train, False: valid}  # the sample hook's pieces: real or not
        vframes = self._frames(valid)
        # validation: windows inside the pieces (comparable with the pre-issue-26 card), and
        # windows holding the pieces' ends (the cadences)
        self.valid_batch = self._batch(vframes, np.random.default_rng(0), 128, end_share=0.0)
        self.valid_end = self._batch(vframes, np.random.default_rng(1), 128, end_share=1.0)

    def _frames(self, pieces):
        """Per piece (cond, parts, frames the piece covers), padded with rests to hold a
        window, and half a window after its end (where generation's last window has it)."""
        W = self.cfg["window"]
        meters: dict[bytes, Meter] = {}
        out = []
        for g in pieces:
            key = (g - g[g != REST].min() * (g != REST)).tobytes()  # transposition-invariant
            if key not in meters:
                meters[key] = guess_meter(g)
            n = piece_frames(g, meters[key])[0].shape[1]
            cond, parts, _ = piece_frames(g, meters[key], max(W, n + W // 2),
                                          bool(self.cfg.get("phrase")))
            out.append((torch.from_numpy(cond), torch.from_numpy(parts), n))
        return out

    def _batch(self, pieces, rng, size, end_share: float | None = None):
        """(cond ``[B, cond, W]``, parts ``[B, PARTS, W]``, n_known ``[B]``, n_end ``[B]``) of
        random windows; ``n_end``: the window's frames inside the piece (W but in ending
        windows), the ones that count: no loss and no critic sees the parts after them.

        A share ``end_share`` (default: the config's) of them holds the piece's end in its
        second half, rests after it, as the last window of ``GanComposer.generate`` does
        (it writes up to the end while seeing ``lookahead`` frames beyond); the others lie
        inside the piece. Without them the network would see a final cadence in one window
        of ~8 and never with the padding that follows it at generation."""
        W = self.cfg["window"]
        share = self.cfg.get("end_share", 0.0) if end_share is None else end_share
        conds, parts, ends = [], [], []
        for i in rng.integers(0, len(pieces), size):
            cond, part, n = pieces[i]
            if rng.random() < share:
                s = max(0, n - W + int(rng.integers(0, W // 2)))
            else:
                s = int(rng.integers(0, max(n, W) - W + 1))
            conds.append(cond[:, s:s + W])
            parts.append(part[:, s:s + W])
            ends.append(min(W, n - s))
        n_known = torch.from_numpy(rng.integers(0, self.cfg["context"] + 1, size))
        return torch.stack(conds), torch.stack(parts), n_known, torch.tensor(ends)

    def _latents(self, B):
        return torch.randn(B, self.cfg["z_shared"]), torch.randn(B, PARTS, self.cfg["z_track"])

    def _fake(self, G, cond, parts, n_known, n_end, real):
        """Logits, and the parts the critic sees: the known frames and the frames after the
        piece's end are the real ones (rests there), the others the generator's."""
        logits = G(cond, known_input(parts, n_known), *self._latents(cond.shape[0]))
        fake = mix_known(real, logits.softmax(-1), n_known)
        past = (torch.arange(real.shape[2])[None, :] >= n_end[:, None])[:, None, :, None]
        return logits, torch.where(past, real, fake)

    def train_step(self, rng) -> dict:
        G, D = self.modules["generator"], self.modules["critic"]
        cfg = self.cfg
        out = {"lr": current_lr(self.optimizers["generator"])}
        for _ in range(cfg["n_critic"]):
            cond, parts, n_known, n_end = self._batch(self.train, rng, cfg["batch"])
            real = window_onehot(parts)
            with torch.no_grad():
                _, fake = self._fake(G, cond, parts, n_known, n_end, real)
            d_real, d_fake = D(cond, real).mean(), D(cond, fake).mean()
            gp = gradient_penalty(lambda x, c=cond: D(c, x), real, fake)
            loss_d = d_fake - d_real + cfg["gp"] * gp
            self.optimizers["critic"].zero_grad()
            loss_d.backward()
            self.optimizers["critic"].step()
            out.update(wdist=float((d_real - d_fake).detach()), gp=float(gp.detach()))

        cond, parts, n_known, n_end = self._batch(self.train, rng, cfg["batch"])
        real = window_onehot(parts)
        logits, fake = self._fake(G, cond, parts, n_known, n_end, real)
        ce = self._ce(logits, parts, n_known, n_end)
        adv = -D(cond, fake).mean()
        loss_g = cfg["sup"] * ce + cfg["adv"] * adv
        self.optimizers["generator"].zero_grad()
        loss_g.backward()
        self.optimizers["generator"].step()
        for scheduler in self.schedulers.values():
            scheduler.step()
        out.update(ce=float(ce.detach()), adv=float(adv.detach()))
        return out

    @staticmethod
    def _counted(parts, n_known, n_end):
        """``[B, PARTS, T]`` bool: the frames a loss counts, unknown and inside the piece."""
        t = torch.arange(parts.shape[2])[None, :]
        return ((t >= n_known[:, None]) & (t < n_end[:, None]))[:, None, :].expand_as(parts)

    @classmethod
    def _ce(cls, logits, parts, n_known, n_end):
        """Mean cross-entropy (nats per part-frame) over the unknown frames inside the piece."""
        counted = cls._counted(parts, n_known, n_end)
        return F.cross_entropy(logits[counted], parts[counted])

    @torch.no_grad()
    def validate(self) -> dict:
        """Cross-entropy and accuracy on the fixed validation windows inside the pieces;
        ``ce_end`` on those holding the pieces' ends (latents at zero)."""
        G = self.modules["generator"]
        G.eval()
        out = {}
        for name, (cond, parts, n_known, n_end) in (("", self.valid_batch),
                                                     ("_end", self.valid_end)):
            B = cond.shape[0]
            zs = torch.zeros(B, self.cfg["z_shared"])
            zt = torch.zeros(B, PARTS, self.cfg["z_track"])
            logits = G(cond, known_input(parts, n_known), zs, zt)
            counted = self._counted(parts, n_known, n_end)
            out[f"ce{name}"] = float(self._ce(logits, parts, n_known, n_end))
            out[f"acc{name}"] = float((logits.argmax(-1) == parts)[counted].float().mean())
        G.train()
        return out

    def sample_rolls(self, rng, n: int, real: bool = False) -> np.ndarray:
        """The sample hook (``deepcompose.train``): alto, tenor and bass ``[n, 3, steps,
        128]`` of ``n`` windows of ``window`` frames, sampled under validation sopranos
        (one generator pass, random latents, each frame's pitch drawn from its softmax),
        or the training windows' own (``real``)."""
        grids = grid_windows(self.grids[real], rng, n, self.cfg["window"] * STEPS_PER_FRAME)
        if not real:
            G = unwrap(self.modules["generator"])
            G.eval()
            frames = [piece_frames(g, Meter(), phrase=bool(self.cfg.get("phrase")))
                      for g in grids]
            cond = torch.from_numpy(np.stack([f[0] for f in frames]))
            parts = torch.from_numpy(np.stack([f[1] for f in frames]))
            logits = G(cond, known_input(parts, torch.zeros(n, dtype=torch.long)),
                       *self._latents(n))  # [n, PARTS, frames, V]
            G.train()
            ix = torch.distributions.Categorical(logits=logits).sample().numpy()
            grids[:, 1:] = np.repeat(from_index(ix), STEPS_PER_FRAME, axis=2)
        return written(grids)

    @staticmethod
    def family_metrics(rolls, real: bool = False) -> dict:
        """Parallel fifths and octaves per 100 transitions among alto, tenor and bass."""
        return {"parallels": parallels(rolls)}

    def export(self):
        tensors = {f"{name}.{k}": v for name, m in self.modules.items()
                   for k, v in getattr(m, "module", m).state_dict().items()}
        n = sum(p.numel() for p in self.modules["generator"].parameters())
        return tensors, {"generator_params": n}


def make_trainer(config: dict, train: list[np.ndarray], valid: list[np.ndarray]) -> GanTrainer:
    return GanTrainer(config, train, valid)


