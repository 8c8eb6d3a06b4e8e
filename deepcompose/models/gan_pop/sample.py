"""Sampling of the pop band GAN: ``PopBand.arrange`` (networks in ``net``, form in ``form``).

1. Features per 16th step from the request: melody, meter (bars from ``beats_per_bar`` and
   ``first_bar_beat``; 6/8 is played as three quarter beats per bar, see the card).
2. Chords: the given ones (repeated as a progression to the end when they stop early,
   ``chords.repeat_chords``), or a Viterbi path over beats through the chord head's
   log-probabilities + ``quality_bonus`` per quality + ``chord_fit`` x the melody's note
   time on the chord's tones (less its time a semitone above one), with change costs at
   POP909's harmonic rhythm (``chord_path``); the head is averaged over the 12
   transpositions when ``chord_tta`` is set (off: no gain measured).
3. The form (``form.melody_form``): phrases and the bars that repeat earlier melody bars.
   Every random draw below comes from a ``form.NoiseBank``: shared by the bars of a
   phrase, copied where the melody repeats (``share_noise``; off = per-step draws).
   Latents from the seed, the per-bar ones per phrase figure (zero at temperature 0); one
   generator pass (overlapping chunks of ``chunk`` steps for long pieces).
4. Per track and step: an attack ~ Bernoulli(sigmoid(logit / (T * attack_scale))); its
   pitch(es) at temperature T * pitch_scale (one pitch for bass and counter, Gumbel-max;
   each keys pitch its own Bernoulli at ``pitch_scale_keys``, the likeliest one if none
   came up); its duration class likewise. Velocity = the head's accents scaled by
   ``vel_contrast`` + a shared draw. A single-line track's note ends at the track's next
   attack, a keys note at the next attack of the same pitch.
5. Decoding rules (``RULES``; ``rules=True`` all, ``False`` none, or a list of names):
   ``chord_tones`` (bass and keys pitches on the chord's tones), ``chord_cut`` (their notes
   end at the next chord change), ``fill_bars`` (a silent bar inside the melody's span gets
   the keys' likeliest attack), ``register`` (keys within ``keys_span`` semitones per
   phrase), ``counter`` (its attacks favoured in the melody's rests, its pitches above the
   melody disfavoured), ``dynamics`` (phrase levels and swells).
6. The chords played come back labelled with the bass the band played (inversions).
"""

from __future__ import annotations

import bisect

import numpy as np
import torch

from ...chords import N_CLASSES, chord_class, class_label, harte, parse_chord, repeat_chords
from ...representations.bars import beat_in_bar, melody_bars, meter_stretches
from ...representations.multitrack import (
    NAMES,
    PROGRAMS,
    STEPS_PER_BEAT,
    BandPart,
    BandResult,
    steps_for,
)
from .cadence import cadences, root_mask
from .form import NoiseBank, melody_form
from .net import (
    CHROMA,
    DURS,
    N_MEL,
    N_METER,
    POLY,
    RANGES,
    TRACKS,
    Q,
    check_request,
    chord_features,
    melody_features,
    melody_rows,
    meter_features,
    n_phrase,
    phrase_rows,
    split_head,
    viterbi,
)

HALO = 160  # steps of context on each side of a chunk (> the generator's receptive field)


def melody_steps(melody) -> list[tuple[int, int, int]]:
    """Melody notes in beats -> ``(pitch, start_step, dur_steps)`` on the 16th grid (at
    least one step; a start before 0 moves to 0)."""
    out = []
    for pitch, start, end, _ in melody:
        a = max(0, round(start * STEPS_PER_BEAT))
        out.append((int(pitch), a, max(a + 1, round(end * STEPS_PER_BEAT)) - a))
    return out


def given_chords(chords, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Chord class ``[steps]`` and bass pitch class ``[steps]`` (-1) of given chords."""
    classes = np.zeros(steps, dtype=np.int64)
    bass = np.full(steps, -1, dtype=np.int64)
    for start, end, label in chords:
        a, b = max(0, round(start * STEPS_PER_BEAT)), min(steps, round(end * STEPS_PER_BEAT))
        root, _, b_pc = parse_chord(label)
        classes[a:b] = chord_class(label)
        bass[a:b] = -1 if root is None else b_pc
    return classes, bass


def chord_segments(classes: np.ndarray, bass: np.ndarray, length_beats: float):
    """Per-step chords -> ``[(start_beat, end_beat, harte_label)]`` (N segments dropped)."""
    out, start = [], 0
    for t in range(1, len(classes) + 1):
        if t == len(classes) or classes[t] != classes[start] or bass[t] != bass[start]:
            if classes[start] > 0:
                b = None if bass[start] < 0 else int(bass[start])
                end = min(t / STEPS_PER_BEAT, length_beats)
                if start / STEPS_PER_BEAT < end:
                    out.append((start / STEPS_PER_BEAT, end, class_label(int(classes[start]), b)))
            start = t
    return out


def run_generator(G, cond: torch.Tensor, z, chunk: int) -> list[torch.Tensor]:
    """Generator outputs for the whole piece, ``chunk`` steps at a time with ``HALO`` steps
    of context on each side (outputs inside a chunk equal those of one long pass)."""
    zs, zb, zt = z
    T = cond.shape[-1]
    if T <= chunk:
        return G(cond, zs, zb, zt)
    parts: list[list[torch.Tensor]] = [[] for _ in TRACKS]
    for s in range(0, T, chunk):
        a, b = max(0, s - HALO), min(T, s + chunk + HALO)
        outs = G(cond[..., a:b], zs, zb[..., a:b], zt)
        for i, o in enumerate(outs):
            parts[i].append(o[..., s - a:min(T, s + chunk) - a])
    return [torch.cat(p, -1) for p in parts]


def transposed_index(k: int) -> np.ndarray:
    """``[N_CLASSES]``: column of each chord class after moving the music up ``k`` semitones."""
    c = np.arange(1, N_CLASSES)
    return np.concatenate([[0], 1 + (((c - 1) // Q + k) % 12) * Q + (c - 1) % Q])


def chord_logp(G, mm: torch.Tensor, span: int = 512, halo: int = 64) -> np.ndarray:
    """Chord log-probabilities per beat ``[B, beats, K]`` from melody + meter ``[B, C, T]``.
    Attention covers the whole piece up to ``span`` beats; longer pieces go in windows of
    ``span`` beats, each seeing ``halo`` beats of context on both sides."""
    beats = mm.shape[-1] // STEPS_PER_BEAT
    if beats <= span:
        return G.chords(mm).log_softmax(-1).numpy()
    out = []
    for s in range(0, beats, span):
        a, b = max(0, s - halo), min(beats, s + span + halo)
        lp = G.chords(mm[..., a * STEPS_PER_BEAT:b * STEPS_PER_BEAT]).log_softmax(-1)
        out.append(lp[:, s - a:min(beats, s + span) - a].numpy())
    return np.concatenate(out, 1)


def piece_rows(req) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The request per 16th step: highest melody pitch ``[T]`` (-1 rest), melody onsets
    ``[T]``, the beat in bar ``[T]`` and that bar's beats per bar ``[T]`` (beats, following
    ``meter_changes``); ``T`` = the piece rounded up to whole beats."""
    T = -(-steps_for(req.length_beats) // STEPS_PER_BEAT) * STEPS_PER_BEAT
    mel, onset = melody_rows(melody_steps(req.melody), T)
    stretches = meter_stretches(req.beats_per_bar, req.first_bar_beat, req.meter_changes)
    in_bar, bpb = beat_in_bar(np.arange(T) / STEPS_PER_BEAT, stretches)
    return mel, onset, in_bar, bpb


def phrase_of(band, mel: np.ndarray, onset: np.ndarray, in_bar: np.ndarray) -> list:
    """The phrase-position rows the band reads (``net.phrase_rows`` on the whole piece,
    ``[N_PHRASE, T]``), as a list: empty for weights without them."""
    return [phrase_rows(in_bar, mel, onset)] if n_phrase(band.cfg) else []


@torch.no_grad()
def chord_posterior(band, mel: np.ndarray, onset: np.ndarray, meter: np.ndarray,
                    in_bar: np.ndarray | None = None) -> np.ndarray:
    """The chord head's probabilities per beat ``[beats, N_CLASSES]`` from the melody rows
    (``piece_rows``) and ``meter_features`` ``[N_METER, T]`` (averaged over the 12
    transpositions when ``chord_tta`` is set); the phrase position comes from ``in_bar``
    (``piece_rows``' beats since the bar line; default: the bar lines of ``meter``)."""
    shifts = range(-5, 7) if band.cfg["chord_tta"] else [0]
    if in_bar is None:  # beat 0 and 16th 0 of ``meter_features``: a bar line
        in_bar = np.where((meter[0] > 0.5) & (meter[6] > 0.5), 0.0, 1.0)
    mms = torch.from_numpy(np.stack([np.concatenate([
        melody_features(np.where(mel >= 0, mel + k, -1), onset), meter,
        *phrase_of(band, np.where(mel >= 0, mel + k, -1), onset, in_bar)])
        for k in shifts]))  # [K, N_MEL + N_METER + n_phrase, T]
    probs = np.exp(chord_logp(band.generator, mms))  # [K, beats, classes]
    return np.mean([p[:, transposed_index(k)] for p, k in zip(probs, shifts, strict=True)], 0)


# Pitch classes a semitone above a chord tone that are not tones themselves (a melody note
# there rubs against the chord: a minor ninth, the "avoid note" of jazz theory).
CLASH = np.roll(CHROMA, 1, axis=1) * (1 - CHROMA)
CLASH[0] = 0


def melody_chroma(mel: np.ndarray) -> np.ndarray:
    """The melody's note time per beat and pitch class ``[beats, 12]`` (16th steps) from its
    per-step pitch row ``[T]`` (-1 rest; ``T`` a multiple of 4)."""
    beats = len(mel) // STEPS_PER_BEAT
    out = np.zeros((beats, 12))
    t = np.nonzero(mel[:beats * STEPS_PER_BEAT] >= 0)[0]
    np.add.at(out, (t // STEPS_PER_BEAT, mel[t] % 12), 1)
    return out


def change_costs(cfg, beat_in_bar: np.ndarray, bpb: np.ndarray) -> np.ndarray:
    """Cost in nats of a chord change on each beat ``[beats]``: ``chord_switch_bar`` on a bar
    line, ``chord_switch_half`` on the middle beat of a bar with an even number of beats,
    ``chord_switch`` elsewhere. ``beat_in_bar``, ``bpb`` per 16th step ``[T]``."""
    b = beat_in_bar[::STEPS_PER_BEAT]
    n = np.asarray(bpb, dtype=float)[::STEPS_PER_BEAT] if np.ndim(bpb) else np.full(len(b), bpb)
    costs = np.full(len(b), float(cfg["chord_switch"]))
    even = np.round(n) % 2 == 0
    costs[even & (np.abs(b - n / 2) < 1e-6)] = float(cfg["chord_switch_half"])
    costs[b < 1 - 1e-6] = float(cfg["chord_switch_bar"])
    return costs


def chord_path(band, probs: np.ndarray, beat_in_bar: np.ndarray, bpb=4,
               mel: np.ndarray | None = None, extra: np.ndarray | None = None) -> np.ndarray:
    """The best chord class per beat ``[beats]``: Viterbi over the head's log-probabilities
    ``probs [beats, K]`` plus ``quality_bonus`` nats per quality, plus ``chord_fit`` nats x
    (the share of the beat's melody note time on the chord's tones minus the share a
    semitone above one, ``CLASH``; ``mel [T]``, when given), plus ``extra [beats, K]`` nats
    (the ``cadence`` rule), with ``change_costs``. ``beat_in_bar`` and ``bpb`` per 16th step
    ``[T]``."""
    score = np.log(probs)
    bonus = band.cfg.get("quality_bonus")
    if bonus:  # nats per quality, from the training songs (``fit_quality_bonus``)
        score = score + np.concatenate([[0.0], np.tile(np.asarray(bonus, float), 12)])
    lam = float(band.cfg.get("chord_fit", 0.0))
    if mel is not None and lam:
        m = melody_chroma(mel)[:len(score)]
        fit = m @ (CHROMA - CLASH).T
        score = score + lam * fit / np.maximum(m.sum(1, keepdims=True), 1)
    if extra is not None:
        score = score + extra[:len(score)]
    return viterbi(score, change_costs(band.cfg, beat_in_bar, bpb)[:len(score)])


RULES = ("chord_tones", "chord_cut", "fill_bars", "register", "counter", "dynamics", "cadence",
         "keys_hold")


def rule_set(rules) -> frozenset:
    """``True``: every rule of ``RULES``; ``False``/``None``: none; else the names given."""
    if rules is True:
        return frozenset(RULES)
    if not rules:
        return frozenset()
    bad = set(rules) - set(RULES)
    if bad:
        raise ValueError(f"unknown band rules {sorted(bad)}; known: {', '.join(RULES)}")
    return frozenset(rules)


def arrange(band, req, rules=True, score: bool = True) -> BandResult:
    check_request(req)
    on = rule_set(rules)
    cfg, G = band.cfg, band.generator
    n = steps_for(req.length_beats)
    mel, onset, in_bar, bpb = piece_rows(req)
    T = len(in_bar)
    meter = meter_features(in_bar, bpb)
    mm = np.concatenate([melody_features(mel, onset), meter])
    given = repeat_chords(req.chords, req.length_beats) if req.chords else None
    cad = (cadences(req.melody, mel, onset, in_bar, float(cfg.get("cadence_chord", 0.0)))
           if "cadence" in on else None)
    if given:  # given chords win: the chord head is not asked
        classes, bass_pc = given_chords(given, T)
    else:  # the chord head's best path, one chord per beat
        path = chord_path(band, chord_posterior(band, mel, onset, meter, in_bar), in_bar, bpb,
                          mel, None if cad is None else cad.chord_bonus)
        classes, bass_pc = np.repeat(path, STEPS_PER_BEAT), np.full(T, -1, dtype=np.int64)
    # phrase position (issue 26) of the whole piece, last: chunks slice it like the rest
    cond = torch.from_numpy(np.concatenate([mm, chord_features(classes, bass_pc),
                                            *phrase_of(band, mel, onset, in_bar)]))[None]

    gen = torch.Generator().manual_seed(int(req.seed) & 0xFFFF_FFFF_FFFF)
    form = melody_form(mel, onset, in_bar, int(cfg["phrase_bars"]),
                       float(cfg["repeat_similarity"]))
    tau = float(req.temperature)
    noise = NoiseBank(form, gen, float(cfg["vary"]), bool(cfg["share_noise"]))
    zs = torch.randn(1, cfg["z_shared"], generator=gen)
    zt = torch.randn(1, len(TRACKS), cfg["z_track"], generator=gen)
    zb = noise.per_key(cfg["z_bar"])[None]  # [1, zb, T]: one latent per phrase figure
    if tau <= 0:
        zs, zb, zt = zs * 0, zb * 0, zt * 0
    if cfg.get("zero_latents"):  # the card's ablation
        zs, zb, zt = zs * 0, zb * 0, zt * 0
    outs = run_generator(G, cond, (zs, zb, zt), int(cfg["chunk"]))

    change = np.ones(T, dtype=bool)
    change[1:] = (classes[1:] != classes[:-1]) | (bass_pc[1:] != bass_pc[:-1])
    ctx = {"classes": classes, "mel": mel, "form": form, "on": on, "tau": tau,
           "noise": noise, "cfg": cfg, "cadence": cad}
    sampled = {track: _sample_track(track, out, ctx) for track, out in zip(TRACKS, outs,
                                                                            strict=True)}
    bar_lines = np.zeros(T, dtype=bool)
    bar_lines[1:] = in_bar[1:] < in_bar[:-1]
    bar_lines[0] = in_bar[0] < 1e-6
    if "fill_bars" in on:
        others = [n for t in ("bass", "counter") for n in sampled[t][0]]
        _, _, attack_p, pitch_l = sampled["keys"]
        _fill_silent_bars(sampled["keys"][0], others, attack_p[:n], pitch_l, bar_lines[:n],
                          melody_bars(req.melody, req.beats_per_bar, req.first_bar_beat,
                                      req.meter_changes))
    parts = []
    for track in TRACKS:
        cut = change if "chord_cut" in on and track != "counter" else None
        notes = note_ends(sampled[track][0], T, cut, POLY[track],
                          hold=change | bar_lines if track == "keys" and "keys_hold" in on
                          else None)
        notes = [(p, a / 4, min(b / 4, req.length_beats), v) for p, a, b, v in notes
                 if a / 4 < req.length_beats]
        parts.append(BandPart(track, NAMES[track], PROGRAMS[track], False, notes))
    if given:
        chords = given
    else:  # the chords as played: a bass on another chord tone makes an inversion
        chords = chord_segments(classes[:n], bass_pc[:n], req.length_beats)
        chords = played_inversions(chords, parts[TRACKS.index("bass")].notes)
    rank = _score(band, cond, np.concatenate([sampled[t][1] for t in TRACKS])) if score else None
    return BandResult(parts, chords, rank)


def played_inversions(chords, bass_notes):
    """Chords ``(start, end, harte)`` relabelled with the bass the band played: where the
    lowest bass note sounding at a chord's start is another tone of the chord than its root,
    the label gets that bass (``C:maj`` over E -> ``C:maj/3``)."""
    out = []
    for a, b, label in chords:
        root, pcs, _ = parse_chord(label)
        under = [p for p, s, e, _ in bass_notes if s <= a + 1e-6 < e]
        if root is not None and under and min(under) % 12 in pcs and min(under) % 12 != root:
            label = harte(root, label.split(":")[1].split("/")[0], min(under) % 12)
        out.append((a, b, label))
    return out


def _sample_track(track, out, ctx):
    """Notes ``[(pitch, start_step, dur_steps, velocity)]`` of one track, its attack roll
    ``[P, T]`` for the critic, and the attack probabilities / pitch logits (for the rules).
    Random draws come from ``ctx["noise"]`` (shared along the form, see ``form``)."""
    attack, pitch, dur, vel = (x[0] for x in split_head(out, track))  # [T], [P, T], [8, T], [T]
    cfg, on, tau, noise, form = ctx["cfg"], ctx["on"], ctx["tau"], ctx["noise"], ctx["form"]
    lo, hi = RANGES[track]
    T = attack.shape[0]
    pitches = torch.arange(lo, hi + 1)
    if "chord_tones" in on and track != "counter":
        pcs = torch.from_numpy(CHROMA[ctx["classes"]]).bool()  # [T, 12] chord tones (N: none)
        allowed = pcs[:, pitches % 12].T  # [P, T]
        allowed |= ~pcs.any(1)[None]
        pitch = pitch.masked_fill(~allowed, float("-inf"))
    mel = torch.from_numpy(ctx["mel"][:T])
    cad = ctx.get("cadence")
    if track == "bass" and cad is not None:  # rule "cadence": the root, struck at the end
        pitch = pitch.masked_fill(~torch.from_numpy(root_mask(ctx["classes"][:T],
                                                              cad.root_only[:T], lo, hi)),
                                  float("-inf"))
        attack = attack + 1e4 * torch.from_numpy(cad.attack[:T]).float()
    if track == "counter" and "counter" in on:
        rest = (mel < 0).float()
        attack = attack + float(cfg["counter_rest"]) * rest
        above = (pitches[:, None] > mel[None]) & (mel[None] >= 0)
        pitch = pitch - float(cfg["counter_above"]) * above.float()
    if track == "keys" and "register" in on and int(cfg["keys_span"]) > 0:
        pitch = _register(pitch, torch.sigmoid(attack), form, int(cfg["keys_span"]))
    t = max(tau, 1e-4)
    scales = (float(cfg.get(f"attack_scale_{track}") or cfg["attack_scale"]),
              float(cfg.get(f"pitch_scale_{track}") or cfg["pitch_scale"]))
    p_att = torch.sigmoid(attack / (t * scales[0]))
    greedy = tau <= 0
    hits = (p_att > 0.5) if greedy else (noise.uniform(1)[0] < p_att)
    t = t * scales[1]
    if track == "keys":
        p_pitch = torch.sigmoid(pitch / t)
        chosen = (p_pitch > 0.5) if greedy else (noise.uniform(pitch.shape[0]) < p_pitch)
        best = pitch.argmax(0)
        chosen[best, torch.arange(T)] |= ~chosen.any(0)
    else:  # one pitch per step: Gumbel-max over the pitch axis (0)
        g = 0 if greedy else noise.gumbel(pitch.shape[0])
        chosen = torch.zeros_like(pitch, dtype=torch.bool)
        chosen[(pitch / t + g).argmax(0), torch.arange(T)] = True
    dscale = cfg.get(f"dur_scale_{track}")  # a duration temperature of its own (issue 26)
    td = max(tau, 1e-4) * float(dscale) if dscale else t
    dsel = (dur / td + (0 if greedy else noise.gumbel(dur.shape[0]))).argmax(0)  # [T]
    velocity = _velocity(torch.sigmoid(vel) * 127, hits, form, noise, cfg, on, greedy)
    roll = (chosen & hits[None]).float().numpy()
    notes = []
    for s in np.nonzero(hits.numpy())[0]:
        v = int(np.clip(round(float(velocity[s])), 20, 127))
        for p in np.nonzero(chosen[:, s].numpy())[0]:
            notes.append((int(p) + lo, int(s), int(DURS[int(dsel[s])]), v))
    return notes, roll, p_att.numpy(), pitch


def _register(pitch, p_att, form, span: int):
    """Rule: keys pitches kept inside a window of ``span`` semitones per phrase, centred on
    the pitch the network's keys lean to there (the mean pitch of its probabilities,
    weighted by the attack probability); pitches outside it are taken away."""
    probs = torch.sigmoid(pitch).nan_to_num(0.0) * p_att[None]  # [P, T]
    idx = torch.arange(pitch.shape[0], dtype=torch.float32)[:, None]
    out = pitch.clone()
    keys = torch.from_numpy(form.phrase_key)
    for k in torch.unique(keys):
        cols = keys == k
        w = probs[:, cols]
        centre = float((w * idx).sum() / w.sum().clamp(min=1e-6))
        a = int(round(centre - span / 2))
        keep = (idx[:, 0] >= a) & (idx[:, 0] <= a + span)
        sub = out[:, cols]
        sub[~keep] = float("-inf")
        out[:, cols] = sub
    return out


def _velocity(head, hits, form, noise, cfg, on, greedy):
    """Velocities per step ``[T]``: the head's (its accents around its mean scaled by
    ``vel_contrast``) + a note draw (``vel_noise``, shared along the form) and, with the
    ``dynamics`` rule, a level per phrase figure (``vel_phrase``) and a swell rising to the
    phrase's middle and falling back (``vel_swell``)."""
    if greedy:
        return head
    h = head[hits] if bool(hits.any()) else head
    mean = float(h.mean())
    v = mean + float(cfg["vel_contrast"]) * (head - mean)
    v = v + float(cfg["vel_noise"]) * noise.normal(1)[0]
    level = noise.per_key(1)[0]  # drawn either way: the rule does not move later draws
    if "dynamics" in on:
        v = v + float(cfg["vel_phrase"]) * level
        x = (torch.from_numpy(form.bar_in_phrase * form.width + form.pos).float()
             / torch.from_numpy(form.phrase_len * form.width).float())
        v = v + float(cfg["vel_swell"]) * (torch.sin(torch.pi * x) - 2 / torch.pi)
    return v


def note_ends(notes, T: int, change=None, poly: bool = False, hold=None):
    """Start/duration notes -> ``(pitch, start, end, vel)`` in steps: a line's notes end at
    its next attack, a polyphonic track's (the keys) at the next attack of their pitch, all
    at ``change`` (``[T]`` bool: the next chord change) when given, and at step ``T``.
    ``hold`` (``[T]`` bool, rule ``keys_hold``): a note is held at least to the next step
    marked there (the pedal: the next chord change or bar line), within those limits."""
    notes = sorted(notes, key=lambda n: (n[1], n[0]))
    starts = sorted({n[1] for n in notes})
    next_change = np.full(T + 1, T)
    if change is not None:
        c = np.nonzero(change)[0]
        idx = np.searchsorted(c, np.arange(T + 1), side="right")
        next_change = np.where(idx < len(c), c[np.minimum(idx, len(c) - 1)], T)
    nxt_by_pitch: dict[int, int] = {}
    lifts = np.nonzero(hold)[0] if hold is not None else None
    out = []
    for p, s, d, v in reversed(notes):
        if lifts is not None:
            i = bisect.bisect_right(lifts, s)
            d = max(d, (int(lifts[i]) if i < len(lifts) else T) - s)
        end = min(s + d, T, int(next_change[s]))
        if poly:
            end = min(end, nxt_by_pitch.get(p, T))
            nxt_by_pitch[p] = s
        else:
            later = [x for x in starts if x > s]
            end = min(end, later[0] if later else T)
        out.append((p, s, max(end, s + 1), v))
    return sorted(out, key=lambda n: (n[1], n[0]))


def _fill_silent_bars(keys, others, attack_p, pitch_l, bar_lines, bars):
    """Rule: a bar of the melody's span where nothing would sound gets one keys attack at
    the step the network rates likeliest, with its likeliest pitches (appended to ``keys``).
    Notes are ``(pitch, start_step, dur_steps, vel)``; ``bars`` counts from the first bar
    line (the pickup is bar -1)."""
    T = len(attack_p)
    sounding = [(n[1], n[1] + n[2]) for n in keys + others]
    starts = list(np.nonzero(bar_lines)[0])
    if not starts or starts[0] > 0:
        starts = [0, *starts]  # the pickup (or the whole piece) as a bar of its own
        offset = 1 if len(starts) > 1 else 0
    else:
        offset = 0
    starts.append(T)
    lo = RANGES["keys"][0]
    for b in bars:
        i = b + offset
        if not 0 <= i < len(starts) - 1:
            continue
        a, e = int(starts[i]), int(starts[i + 1])
        if a >= e or any(s < e and f > a for s, f in sounding):
            continue
        s = a + int(np.argmax(attack_p[a:e]))
        probs = torch.sigmoid(pitch_l[:, s]).numpy()
        top = [int(i) for i in np.nonzero(probs > 0.5)[0]] or [int(probs.argmax())]
        keys += [(p + lo, s, e - s, 80) for p in top]


def _score(band, cond: torch.Tensor, rolls: np.ndarray) -> float:
    """The critic's score of the sampled attack rolls (higher = more like POP909)."""
    T = cond.shape[-1]
    pad = (-T) % 16
    x = torch.nn.functional.pad(cond, (0, pad))
    r = torch.nn.functional.pad(torch.from_numpy(rolls)[None], (0, pad))
    return float(band.critic(x, r).mean())


__all__ = ["arrange", "N_MEL", "N_METER"]
