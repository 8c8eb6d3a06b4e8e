"""WGAN-GP (Gulrajani et al., 2017) pieces shared by the GAN trainers (chorale, band, drums).

The critic's loss is ``D(fake) - D(real) + lambda * gp``; the generator's adversarial
term is ``-D(fake)``. Each trainer keeps its own conditioning and supervised terms.
"""

from __future__ import annotations

import torch


def wgan_optimizers(modules: dict, cfg: dict) -> dict:
    """Adam for ``modules["generator"]`` (``cfg["lr"]``) and ``modules["critic"]``
    (``cfg["critic_lr"]``) with the WGAN-GP betas (0.5, 0.9)."""
    return {name: torch.optim.Adam(modules[name].parameters(), lr=cfg[key], betas=(0.5, 0.9))
            for name, key in (("generator", "lr"), ("critic", "critic_lr"))}


def gradient_penalty(score, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``mean((|grad score(x)| - 1)^2)`` at random points ``x`` between ``real`` and ``fake``
    (same shape ``[B, ...]``; one mixing weight per example). ``score`` maps a batch to
    critic scores (the conditioning bound in)."""
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)))
    mid = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(score(mid).sum(), mid, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def wgan_update(score, real: torch.Tensor, fake: torch.Tensor, sup: torch.Tensor,
                optimizers: dict, cfg: dict) -> dict:
    """One round: the critic on ``real`` vs ``fake`` (detached) with the gradient penalty
    (``cfg["gp"]``), then the generator on ``sup + cfg["adv"] * -score(fake)``. ``score``
    maps a batch of rolls to critic scores (the conditioning bound in). Returns the
    adversarial term, the Wasserstein estimate and the penalty as floats."""
    d_real, d_fake = score(real).mean(), score(fake.detach()).mean()
    gp = gradient_penalty(score, real, fake.detach())
    loss_d = d_fake - d_real + cfg["gp"] * gp
    optimizers["critic"].zero_grad()
    loss_d.backward()
    optimizers["critic"].step()

    adv = -score(fake).mean()
    loss_g = sup + cfg["adv"] * adv
    optimizers["generator"].zero_grad()
    loss_g.backward()
    optimizers["generator"].step()
    return {"adv": float(adv.detach()), "wdist": float((d_real - d_fake).detach()),
            "gp": float(gp.detach())}


def wgan_setup(cfg: dict, generator, critic, floor: float):
    """``(modules, optimizers, schedulers)`` of a new GAN trainer: Adam pairs as above and
    both learning rates on a cosine to ``floor`` over ``cfg["decay_steps"]``."""
    from .schedules import cosine_scheduler

    modules = {"generator": generator, "critic": critic}
    optimizers = wgan_optimizers(modules, cfg)
    schedulers = {name: cosine_scheduler(opt, cfg["decay_steps"], floor)
                  for name, opt in optimizers.items()}
    return modules, optimizers, schedulers
