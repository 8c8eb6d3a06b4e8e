"""Sampling of the string quartet GAN: ``StringQuartet.arrange`` (networks in ``net``).

1. Per 16th step from the request (``gan_pop.sample.piece_rows``: the melody's highest
   sounding pitch and onsets, the beat in bar and beats per bar through the pickup and
   every change of meter), plus violin I's velocity, a compound-meter flag (6/8, 9/8,
   12/8) and the bar lines.
2. The melody's form (``gan_pop.form.melody_form``: bars, phrases, repeats). Latents from
   the seed (zero at temperature 0): one per piece, per phrase figure, per bar (a repeated
   bar reads its source's) and per part; one generator pass (``run_generator``: chunks
   for very long pieces).
3. Per part and step: an attack ~ Bernoulli(sigmoid(logit / (T * attack_scale))), its
   pitch by Gumbel-max at temperature T * pitch_scale over the part's range, its duration
   class likewise (with ``gap_durations``, knowing the gap to the part's next attack);
   velocity = the velocity head (learned from the data's written dynamics), no noise. A
   note ends at its duration or at the part's next attack. With ``share_noise`` the draws
   come from ``gan_pop.form.NoiseBank``: one noise bar per phrase (``vary`` of the steps
   drawn afresh per bar), a repeated bar takes its source's noise,
   so figures hold through a phrase and repeated melody gets repeated accompaniment where
   the network's probabilities agree; off, every step is drawn on its own (the ablation).
   With ``attack_coupling`` rho > 0 the three parts' attack uniforms are correlated
   (``attack_uniforms``: a Gaussian copula; rho 1, one uniform for all), so the parts tend
   to start and, with ``gap_durations``, stop together: the accompaniment breathes as one,
   as the composers' does (their three parts rest together under 5-6% of violin I's
   time), instead of three independent coin flips per step that almost never leave
   violin I alone. Issue 26: durations at T * ``dur_scale`` when set; a gap of at most
   ``legato`` steps before the part's next attack is closed (``fill_gaps``); the pitches
   are drawn part after part with ``joint`` (``pick_pitches``: the upper parts complete
   the chord over the cello rather than double it).
4. Decoding rules (``rules=True``; off for the card's ablation): the cadences of issue 26
   (``home_of``, ``dominant_of``, ``phrase_ends``: the tonic triad under violin I's last
   note with the cello on its root, V7 under the note before it, I or V in the cello at
   the end of every 4-bar phrase), and
   the cello as the bass (``cello_bass``): a cello note holds on through a rest (up to a
   4/4 bar) while violin II or the viola sound, and a cello note that would sound above
   either goes down by octaves while the cello can play it. Ranges need no rule: each
   part's pitch softmax covers only its instrument's range (``net.RANGES``).
"""

from __future__ import annotations

import numpy as np
import torch

from ...keys import (
    dominant_seventh,
    ending_key,
    estimate_key,
    held_final,
    pitch_class_histogram,
    triad,
)
from ...representations.bars import meter_stretches
from ...representations.multitrack import BandPart, BandResult, steps_for
from ...representations.phrase_position import (
    PHRASE_BARS,
    phrase_end_onsets,
    phrase_position,
)
from ..gan_pop.form import NoiseBank, melody_form
from ..gan_pop.net import DURS, check_request
from ..gan_pop.sample import note_ends, piece_rows, run_generator
from .net import (
    N_GAPS,
    NAMES,
    PROGRAMS,
    RANGES,
    TRACKS,
    P,
    bar_numbers,
    conditioning,
    gap_class,
    latent_index,
    split_head,
)

STEPS_PER_BEAT = 4
LEGATO = 16  # steps: the most a cello note is held on through a rest (the rules)
RUB = 2.0  # the joint draw: a semitone rub costs RUB x joint
RUB_SPAN = 4  # steps of a note's start checked for rubs (a beat)
HOME_SPAN = 16.0  # beats of violin I the final cadence reads the key from (the rules)
SAMPLING_KEYS = ("share_noise", "vary", "attack_scale", "pitch_scale", "dur_scale", "joint",
                 "legato", "attack_coupling")
ORDER = ("cello", "viola", "violin2")  # the joint draw: the bass first, then upwards


def melody_velocity(melody, T: int) -> np.ndarray:
    """Velocity (0..1) of the highest melody note sounding at each step ``[T]``."""
    out = np.zeros(T, dtype=np.float32)
    for _, start, end, vel in sorted(melody, key=lambda n: n[0]):
        a = max(0, round(start * STEPS_PER_BEAT))
        out[a:max(a + 1, round(end * STEPS_PER_BEAT))] = vel / 127
    return out[:T]


def compound_steps(req, T: int) -> np.ndarray:
    """Per step ``[T]``: is the meter in force compound (6/8, 9/8, 12/8)?"""
    stretches = meter_stretches(req.beats_per_bar, req.first_bar_beat, req.meter_changes)
    meters = [m or tuple(req.time_signature) for _, _, m in stretches]
    flags = np.array([d == 8 and n % 3 == 0 and n > 3 for n, d in meters])
    which = np.searchsorted([s[0] for s in stretches], np.arange(T) / STEPS_PER_BEAT,
                            side="right") - 1
    return flags[np.maximum(which, 0)]


def bar_starts(in_bar: np.ndarray) -> np.ndarray:
    """Steps that start a bar ``[T]`` from the beats since the bar line per step."""
    out = np.zeros(len(in_bar), dtype=bool)
    out[1:] = in_bar[1:] < in_bar[:-1]
    out[0] = in_bar[0] < 1e-6
    return out


def arrange(model, req, rules: bool = True, score: bool = True, cfg=None) -> BandResult:
    check_request(req)
    cfg, G = cfg or model.cfg, model.generator
    mel, onset, in_bar, bpb = piece_rows(req)
    T = len(in_bar)
    starts = bar_starts(in_bar)
    cond = conditioning(mel, onset, melody_velocity(req.melody, T), in_bar, bpb, starts,
                        compound_steps(req, T))
    if G.n_pos:  # issue 26: where the step stands in the melody's form, appended last
        cond = np.concatenate([cond, phrase_position(bar_numbers(starts), mel, onset)])
    form = melody_form(mel, onset, in_bar, int(cfg["phrase_bars"]),
                       float(cfg["repeat_similarity"]))
    bar_z, phrase_z = latent_index(form)

    gen = torch.Generator().manual_seed(int(req.seed) & 0xFFFF_FFFF_FFFF)
    tau = float(req.temperature)
    zs = torch.randn(1, cfg["z_shared"], generator=gen)
    zp = torch.randn(1, cfg["z_phrase"], int(phrase_z.max()) + 1, generator=gen)
    zb = torch.randn(1, cfg["z_bar"], int(bar_z.max()) + 1, generator=gen)
    zt = torch.randn(1, len(TRACKS), cfg["z_track"], generator=gen)
    if tau <= 0:
        zs, zp, zb, zt = zs * 0, zp * 0, zb * 0, zt * 0
    z_time = torch.cat([zp[..., torch.from_numpy(phrase_z)], zb[..., torch.from_numpy(bar_z)]],
                       1)
    cond_t = torch.from_numpy(cond)[None]
    outs = run_generator(G, cond_t, (zs, z_time, zt), int(cfg["chunk"]))

    noise = NoiseBank(form, gen, float(cfg["vary"]), bool(cfg["share_noise"]))
    dur_scale = cfg.get("dur_scale")
    scales = (float(cfg["attack_scale"]), float(cfg["pitch_scale"]),
              float(cfg["pitch_scale"] if dur_scale is None else dur_scale))
    drawn = {}
    rho = float(cfg.get("attack_coupling") or 0.0)
    common = noise.normal(1)[0] if rho > 0 else None
    for track, out in zip(TRACKS, outs, strict=True):
        draws = (attack_uniforms(noise, common, rho), noise.gumbel(P[track]),
                 noise.gumbel(len(DURS)))
        drawn[track] = sample_part(track, out, tau, draws, scales, G)
        drawn[track]["dur"] = fill_gaps(drawn[track]["steps"], drawn[track]["dur"],
                                        int(cfg.get("legato") or 0))
    home = home_of(req.melody) if rules else None
    sampled = pick_pitches(drawn, melody_pcs(req.melody, T), float(cfg.get("joint") or 0), T,
                           home,
                           phrase_ends(req.melody, onset, bar_numbers(starts)) if rules else None,
                           dominant_of(req.melody, home))
    n = steps_for(req.length_beats)
    ended = {track: note_ends(sampled[track][0], T) for track in TRACKS}
    if rules:
        ended["cello"] = cello_bass(ended["cello"], [ended["violin2"], ended["viola"]], T)
    parts = []
    for track in TRACKS:
        notes = [(p, a / 4, min(b / 4, req.length_beats), v) for p, a, b, v in ended[track]
                 if a < n]
        parts.append(BandPart(track, NAMES[track], PROGRAMS[track], False, notes))
    rank = critic_score(model, cond_t, [sampled[t][1] for t in TRACKS]) if score else None
    return BandResult(parts, [], rank)


def attack_uniforms(noise: NoiseBank, common: torch.Tensor | None, rho: float):
    """One part's attack uniforms ``[T]``: its own draw, or (``common`` ``[T]``, a normal
    draw shared by the parts) a Gaussian copula with correlation ``rho`` to the other
    parts' (``rho`` 1: the same uniforms; each part still attacks at its own rate)."""
    if common is None:
        return noise.uniform(1)[0]
    own = noise.normal(1)[0]
    return torch.special.ndtr(rho * common + (1 - rho * rho) ** 0.5 * own)


def sample_part(track, out, tau, draws, scales, G=None) -> dict:
    """One part's draw before its pitches: attack steps, duration steps and velocity per
    attack, and the pitch scores ``[P, T]`` (logits / temperature + Gumbel noise; the logits
    alone at temperature 0). ``draws``: uniforms for the attacks ``[T]``, Gumbel noise for
    the pitches ``[P, T]`` and the durations ``[8, T]``; ``scales``: attack, pitch and
    duration temperatures x ``tau``. The attacks are drawn first, so that with the
    generator ``G``'s ``gap_durations`` each duration reads the gap to the next one."""
    attack, pitch, dur, vel = (x[0] for x in split_head(out, track))
    u_att, g_pitch, g_dur = draws
    t = max(tau, 1e-4)
    p_att = torch.sigmoid(attack / (t * scales[0]))
    hits = p_att > 0.5 if tau <= 0 else u_att < p_att
    steps = np.nonzero(hits.numpy())[0]
    if G is not None and G.gap_bias is not None:
        T = dur.shape[-1]
        gaps = np.full(T, N_GAPS - 1, dtype=np.int64)
        gaps[steps] = gap_class(steps, T + N_GAPS)
        dur = G.gap_durations(dur[None], torch.from_numpy(gaps)[None], track)[0]
    if tau <= 0:
        score, dsel = pitch, dur.argmax(0)
    else:
        score = pitch / (t * scales[1]) + g_pitch
        dsel = (dur / (t * scales[2]) + g_dur).argmax(0)
    velocity = torch.sigmoid(vel) * 127
    return {"track": track, "steps": steps, "score": score.numpy(),
            "dur": [int(DURS[int(dsel[s])]) for s in steps],
            "vel": [int(np.clip(round(float(velocity[s])), 16, 127)) for s in steps]}


def fill_gaps(steps, durs, legato: int) -> list[int]:
    """Durations with a gap of at most ``legato`` steps before the part's next attack closed
    (the note held to it). Drawn without knowing the gap (weights without
    ``gap_durations``), a duration often stops just short of the next attack: half the
    sampled notes reached it where 75-90% of the composers' do; with it, few gaps are left
    to close (the card's ablation)."""
    out = list(durs)
    if legato > 0:
        for i in range(len(out) - 1):
            gap = int(steps[i + 1]) - int(steps[i]) - out[i]
            if 0 < gap <= legato:
                out[i] += gap
    return out


def melody_pcs(melody, T: int) -> np.ndarray:
    """``[12, T]`` bool: the pitch classes of violin I sounding at each step."""
    out = np.zeros((12, T), dtype=bool)
    for p, start, end, _ in melody:
        a = max(0, round(start * STEPS_PER_BEAT))
        out[int(p) % 12, a:max(a + 1, round(end * STEPS_PER_BEAT))] = True
    return out


def key_pcs(notes, degrees) -> tuple[int, str, set[int]]:
    """The key estimated on ``notes`` (``keys.estimate_key``): ``(tonic, mode, the pitch
    classes of its scale ``degrees``)`` (semitones above the tonic)."""
    tonic, mode = estimate_key([n[0] for n in notes], [n[2] - n[1] for n in notes])
    return tonic, mode, {(tonic + d) % 12 for d in degrees}


def home_of(melody, span: float = HOME_SPAN) -> tuple[int, int, set[int]] | None:
    """The rules' final cadence: ``(step, pitch class, tonic triad)`` of the tonic under
    violin I's last note, from the key estimated on violin I's last ``span`` beats
    (``keys.estimate_key``: the key the piece ends in), or else on all of violin I: the last
    note itself when it is that key's tonic or its relative's (``keys.ending_key``, as the
    band's cadence rule reads it; the relative's triad in the other mode), else the key's
    tonic when the note is in its tonic triad, else (all of violin I's key only) the note
    as a modal final (``keys.modal_final``); None when nothing fits (or without a
    melody). The triad is the pitch classes of the final chord."""
    if not melody:
        return None
    last = max(melody, key=lambda n: (n[1], n[0]))
    step, pc = max(0, round(last[1] * STEPS_PER_BEAT)), int(last[0]) % 12
    lengths = [n[2] - n[1] for n in melody]
    held = held_final(last[2] - last[1], lengths)
    for notes in ([n for n in melody if n[2] > last[2] - span], melody):
        tonic, mode, _ = key_pcs(notes, ())
        # a modal final (keys.modal_final) only on all of violin I, once no key ends home
        hist = pitch_class_histogram([n[0] for n in melody], lengths) if notes is melody else None
        home, home_mode, ends_home = ending_key(tonic, mode, pc, hist, held)
        if ends_home:
            return step, home, triad(home, home_mode == "minor")
        if pc in triad(tonic, mode == "minor"):
            return step, tonic, triad(tonic, mode == "minor")
    return None


def dominant_of(melody, home: tuple[int, int] | None) -> tuple[int, set[int], set[int]] | None:
    """The rules' dominant before the final cadence: ``(step, {V}, {V, VII, II, IV})`` at
    violin I's note before its last one (within a bar of 4 beats before it) when that note
    belongs to the dominant seventh of the ``home`` key (``home_of``); None otherwise."""
    if home is None or not melody:
        return None
    last = max(melody, key=lambda n: (n[1], n[0]))
    before = [n for n in melody if last[1] - 4 <= n[1] < last[1] - 1e-6]
    if not before:
        return None
    note = max(before, key=lambda n: (n[1], n[0]))
    tonic = home[1]
    seventh = dominant_seventh(tonic)
    if int(note[0]) % 12 not in seventh:
        return None
    return max(0, round(note[1] * STEPS_PER_BEAT)), {(tonic + 7) % 12}, seventh


def phrase_ends(melody, onset: np.ndarray, bar: np.ndarray, phrase: int = PHRASE_BARS,
                span: float = HOME_SPAN) -> dict[int, set[int]]:
    """The rules' phrase cadences: step -> the pitch classes of I and V, at violin I's last
    onset in every ``phrase``-th bar (bars from the first full bar: the last bar of each
    phrase), the key estimated on violin I within ``span`` beats either side."""
    out = {}
    for s in phrase_end_onsets(bar, onset, phrase):
        near = [n for n in melody if abs(n[1] - s / STEPS_PER_BEAT) <= span]
        if near:
            out[s] = key_pcs(near, (0, 7))[2]
    return out


def cadence(d: dict, targets: dict[int, set[int]], end: int | None, T: int) -> dict:
    """The cello's draw ``d`` (``sample_part``) with an attack at every step of ``targets``
    (a new attack lasts to the next one) and, with ``end`` (the final cadence's step), an
    attack there held to the end and none after it."""
    notes = {int(t): (dur, vel) for t, dur, vel in zip(d["steps"], d["dur"], d["vel"],
                                                      strict=True)}
    for s in targets:
        if s not in notes and (end is None or s < end):
            before = [t for t in notes if t < s]
            later = [t for t in notes if t > s]
            vel = notes[max(before)][1] if before else 80
            notes[s] = ((min(later) if later else T) - s, vel)
    if end is not None:
        before = [t for t in notes if t < end]
        vel = notes[max(before)][1] if before else 80
        notes = {t: v for t, v in notes.items() if t < end}
        notes[end] = (T - end, vel)
    steps = sorted(notes)
    return {**d, "steps": np.array(steps, dtype=np.int64), "dur": [notes[t][0] for t in steps],
            "vel": [notes[t][1] for t in steps]}


def pick_pitches(drawn: dict, present: np.ndarray, joint: float, T: int,
                 home: tuple[int, int] | None = None,
                 phrases: dict[int, set[int]] | None = None,
                 dominant: tuple[int, set[int], set[int]] | None = None) -> dict:
    """Each part's pitch at each attack -> part -> (notes ``[(pitch, start_step, dur_steps,
    velocity)]``, attack roll ``[P, T]`` for the critic).

    ``joint`` 0: every part takes the top of its own scores (the three parts drawn
    independently, the sampler before issue 26). ``joint`` > 0, the joint draw: the parts
    are drawn one after another (``ORDER``: cello, viola, violin II). The cello's pitches
    are its own draw (the bass, often on violin I's pitch class: the root under a tonic);
    at each attack of the viola and then violin II, a pitch whose class is not yet
    sounding (violin I and the parts drawn so far, ``present [12, T]``) gains ``joint``,
    one a semitone from a sounding class loses ``joint``, in units of the scaled logits:
    the upper parts complete the chord rather than double it. The rules' cadences
    (``cadence``): ``home`` (``home_of``), the cello ends on the tonic and violin II and
    the viola on tones of the tonic triad not yet sounding (the third first), each struck
    under violin I's last note and held to the end; ``phrases``
    (``phrase_ends``), step -> the pitch classes (I, V) the cello takes there;
    ``dominant`` (``dominant_of``): the cello on V and the upper parts on the dominant
    seventh's tones under violin I's note before the last."""
    out = {}
    present = present.copy()
    for track in ORDER:
        d, only = drawn[track], {}
        if track == "cello" and (home is not None or phrases):
            only = {s: set(v) for s, v in (phrases or {}).items() if s < T}
            end = None
            if home is not None and home[0] < T:
                end = home[0]
                only = {s: v for s, v in only.items() if s < end}
                if dominant is not None and dominant[0] < end:
                    only[dominant[0]] = dominant[1]
                only[end] = {home[1]}
            d = cadence(d, only, end, T)
        elif home is not None and home[0] < T:
            only = {home[0]: home[2]}
            if dominant is not None and dominant[0] < home[0]:
                only[dominant[0]] = dominant[2]
            d = cadence(d, only, home[0], T)
        lo = RANGES[track][0]
        pcs = (np.arange(P[track]) + lo) % 12
        notes = []
        for s, dur, vel in zip(d["steps"], d["dur"], d["vel"], strict=True):
            score = d["score"][:, s]
            if s in only:
                want = only[s]
                if track != "cello" and home is not None and s == home[0]:
                    # the last chord: the triad's tones not yet sounding first (its third)
                    want = (want - set(np.nonzero(present[:, s])[0].tolist())) or want
                score = np.where(np.isin(pcs, list(want)), score, -np.inf)
            if joint > 0 and present[:, s].any():
                have = present[:, s]
                near = present[:, s:s + max(1, min(dur, RUB_SPAN))].any(1)
                clash = (np.roll(near, 1) | np.roll(near, -1)) & ~have
                bonus = 0.0 if track == ORDER[0] else joint
                score = score + bonus * (~have[pcs]) - RUB * joint * clash[pcs]
            notes.append((int(score.argmax()) + lo, int(s), dur, vel))
        roll = np.zeros((P[track], T), dtype=np.float32)
        for p, s, _, _ in notes:
            roll[p - lo, s] = 1
        out[track] = (notes, roll)
        if joint > 0:
            for p, a, b, _ in note_ends(notes, T):
                present[p % 12, a:b] = True
    return out


def cello_bass(cello, uppers, T: int, legato: int = LEGATO):
    """Rules: the cello is the bass. A cello note holds on through a rest while violin II
    or the viola sound (at most ``legato`` steps more, never past the next cello attack:
    the accompaniment sounds no more often than it did), and a note that would sound above
    a note of ``uppers`` goes down by octaves while it can (not below the cello's C2).
    Notes are ``(pitch, start_step, end_step, velocity)``, ``T`` steps in all."""
    lo = RANGES["cello"][0]
    spans = [(p, a, b) for part in uppers for p, a, b, _ in part]
    others = np.zeros(T + 1, dtype=bool)
    for _, a, b in spans:
        others[a:b] = True
    out = []
    for i, (p, a, b, v) in enumerate(cello):
        stop = min(cello[i + 1][1] if i + 1 < len(cello) else T, b + legato)
        while b < stop and others[b]:
            b += 1
        under = [q for q, s, e in spans if s < b and e > a]
        while under and p > min(under) and p - 12 >= lo:
            p -= 12
        out.append((p, a, b, v))
    return out


def critic_score(model, cond: torch.Tensor, rolls) -> float:
    """The critic's score of the sampled attack rolls (higher = more like the quartets)."""
    r = torch.from_numpy(np.concatenate(rolls))[None]
    pad = (-cond.shape[-1]) % 4
    return float(model.critic(torch.nn.functional.pad(cond, (0, pad)),
                              torch.nn.functional.pad(r, (0, pad))).mean())
