"""Sampling the melody transformer: bar templates in, notes per bar out, tokens kept legal.

The caller gives the bars to write as ``MelodyBar`` templates (meter, length, offset and,
when chords are given, the chords that must sound in them; no notes). ``decode`` writes
them one token at a time after a prompt, with a KV cache, under a small grammar that
keeps every sequence well formed: each bar opens with its template's bar token; positions
rise inside the bar and stay within it; a position is followed by the chord due there
(forced) and/or a pitch, a pitch by a duration; no chord tokens unless chords are given.
A bar ends when the model opens the next one (or says ``EOS``); the last bar ends the
same way. One decoding rule, on by default (``EMPTY_BARS = False``): a new bar may not end
before it has a note, because a user who asks for more bars wants music in them (POP909's
sung melodies rest for whole bars between sections, and the model learned that; the card
gives the numbers with the rule off). ``temperature``, ``top_k``, ``top_p`` shape each
draw (``decoding.perturb``); the returned score is the mean log-probability of the drawn
tokens (``--candidates``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...decoding import perturb
from ...representations.melody_tokens import (
    DURATIONS,
    PITCH_LOW,
    MelodyBar,
    Vocab,
    bar_tokens,
    fim_tokens,
    head,
    meter_index,
    tokens_to_notes,
)
from .net import START, MelodyCache, MelodyTransformer, bar_state

EMPTY_BARS = False  # may a new bar stay empty? (the rule off: the card's ablation)
MAX_TOKENS_PER_BAR = 96  # a bar that runs longer is closed (a third of a small window)


@dataclass
class Draw:
    """What one decode wrote: notes per bar ``[(pos, pitch, dur ticks)]`` and its score."""

    bars: list
    score: float


class Grammar:
    """Which tokens may come next while writing ``templates`` (see the module docstring)."""

    def __init__(self, templates: list[MelodyBar], chords: bool, max_tokens: int,
                 empty_bars: bool = False):
        self.templates, self.chords, self.max_tokens = templates, chords, max_tokens
        self.empty_bars = empty_bars
        self.notes = 0  # notes in the current bar
        self.bar, self.pos, self.last = -1, -1, "start"  # last: start|bar|pos|chord|pitch|dur
        self.count = 0

    def pending_chord(self):
        """(pos, class) of the next forced chord in the current bar, or None."""
        if not self.chords or self.bar < 0:
            return None
        return next(((p, c) for p, c in self.templates[self.bar].chords if p > self.pos
                     or (p == self.pos and self.last == "pos")), None)

    def allowed(self) -> tuple[np.ndarray, int | None]:
        """Boolean mask ``[SIZE]`` of legal next tokens, or a forced token id."""
        mask = np.zeros(Vocab.SIZE, dtype=bool)
        if self.last == "start":
            return mask, self._bar_token(0)
        if self.last == "pitch":
            mask[Vocab.DUR:Vocab.CHORD] = True
            return mask, None
        chord = self.pending_chord()
        if self.last == "pos":
            if chord is not None and chord[0] == self.pos:
                return mask, Vocab.CHORD + chord[1]
            mask[Vocab.PITCH:Vocab.DUR] = True
            return mask, None
        mask, forced = self._onwards(chord)
        if self.last == "chord" and self.count < self.max_tokens:
            # the chord's position may carry a note too (POS CHORD PITCH DUR, as in training)
            if forced is not None:
                mask[forced], forced = True, None
            mask[Vocab.PITCH:Vocab.DUR] = True
        return mask, forced

    def _onwards(self, chord) -> tuple[np.ndarray, int | None]:
        """After a bar token, a chord or a duration: a later position (none past ``chord``,
        the next one due), or the next bar. Returns a mask or a forced token."""
        mask = np.zeros(Vocab.SIZE, dtype=bool)
        bar = self.templates[self.bar]
        lo, hi = max(self.pos + 1, bar.offset), bar.offset + bar.length
        if chord is not None:
            hi = min(hi, chord[0] + 1)  # nothing may skip the chord due next
        if self.count >= self.max_tokens or lo >= hi:
            if chord is None:
                return mask, self._bar_token(self.bar + 1)
            return mask, Vocab.POS + chord[0]
        mask[Vocab.POS + lo:Vocab.POS + max(lo, hi)] = True
        if chord is None and (self.empty_bars or self.notes or not mask.any()):
            mask[Vocab.BAR:Vocab.POS] = True  # the model may close the bar (meter fixed)
            mask[Vocab.EOS] = True
        return mask, None

    def _bar_token(self, k: int) -> int:
        if k >= len(self.templates):
            return Vocab.EOS
        return Vocab.BAR + meter_index(*self.templates[k].meter)

    def push(self, tok: int) -> bool:
        """Take token ``tok``; True when the last bar is finished (``tok`` not part of it)."""
        kind = Vocab.kind(tok)
        if tok == Vocab.EOS or kind == "bar":
            if self.bar + 1 >= len(self.templates):
                return True
            self.bar, self.pos, self.last, self.count = self.bar + 1, -1, "bar", 0
            self.notes = 0
            return False
        self.count += 1
        self.notes += kind == "pitch"
        if kind == "pos":
            self.pos, self.last = tok - Vocab.POS, "pos"
        else:
            self.last = kind
        return False

    def fix(self, tok: int) -> int:
        """A bar token (or ``EOS``: the bar is over) drawn by the model becomes the next
        template's bar token (the meter is given), or ``EOS`` after the last bar."""
        if tok == Vocab.EOS or Vocab.kind(tok) == "bar":
            return self._bar_token(self.bar + 1)
        return tok


class Session:
    """A KV-cached pass over one growing sequence; ``feed`` returns the next logits."""

    def __init__(self, model: MelodyTransformer, prompt: list[int]):
        self.model, self.W = model, model.cfg["window"]
        self.cache = MelodyCache(model.cfg, 1, self.W)
        self.state = START
        self.logits = self.feed(prompt)

    def feed(self, toks: list[int]) -> torch.Tensor:
        ids = np.asarray(toks, dtype=np.int64)
        ticks, meters, bars, self.state = bar_state(ids, self.state)
        as_t = (torch.as_tensor(a)[None] for a in (ids, ticks, meters, bars))
        self.logits = self.model(*as_t, cache=self.cache)[0, -1]
        return self.logits

    def skip(self, bars: int) -> None:
        """Count ``bars`` more bars before the next token: the hole's first bars, left out
        of a rebuilt infill context, so that the bars after ``MID`` keep their numbers."""
        tick, meter, bar, before_hole = self.state
        self.state = (tick, meter, bar + bars, before_hole)

    @property
    def room(self) -> int:
        return self.W - self.cache.length


def fit_bars(bar_toks: list[list[int]], budget: int, keep_end: bool = True) -> list[int]:
    """The bars (token lists) from the end (or the start) that fit ``budget`` tokens."""
    out, used = [], 0
    for t in (reversed(bar_toks) if keep_end else bar_toks):
        if used + len(t) > budget:
            break
        out.append(t)
        used += len(t)
    return sum(reversed(out) if keep_end else out, [])


@torch.no_grad()
def decode(model: MelodyTransformer, before: list[list[int]], templates: list[MelodyBar],
           style: str, seed: int, temperature: float = 1.0, top_k: int | None = None,
           top_p: float | None = None, chords: bool = False,
           after: list[list[int]] | None = None, empty_bars: bool | None = None,
           end_home: bool = False) -> Draw:
    """Write ``templates`` after the bars ``before`` (token lists per bar). With ``after``
    (token lists of the bars that follow), it is an infill: ``prefix HOLE_n suffix MID``.
    The context keeps as many whole bars as fit; when the window fills up, it is rebuilt
    from the head and the latest whole bars. ``end_home`` (continuations only): the
    ending rule, ``end_last_note``."""
    model.eval()
    gen = torch.Generator().manual_seed(int(seed))
    W, n = model.cfg["window"], len(templates)
    per_bar = min(MAX_TOKENS_PER_BAR, W // 3)
    # room kept after the prompt: the bars to write, and always more than one open bar
    reserve = min(W // 2, max(per_bar + 8, 24 * n + 8))
    budget = W - reserve - 4

    def context(written: list[list[int]]) -> list[int]:  # a continuation's prompt
        return head(style) + fit_bars(before + written, budget)

    def start(written: list[list[int]], current: list[int]) -> Session:
        """A session over the prompt, the finished bars ``written`` and the open bar."""
        if after is None:
            return Session(model, context(written) + current)
        mid = fit_bars(written, budget)  # the hole's bars so far, latest first
        room = max(0, budget - len(mid))
        suffix = fit_bars(after, room // 2, keep_end=False)
        prefix = fit_bars(before, room - len(suffix))
        session = Session(model, fim_tokens(style, prefix, suffix, n))
        session.skip(len(written) - sum(Vocab.kind(t) == "bar" for t in mid))
        if mid or current:
            session.feed(mid + current)
        return session

    grammar = Grammar(templates, chords, per_bar, EMPTY_BARS if empty_bars is None
                      else empty_bars)
    written: list[list[int]] = []  # tokens of finished bars, then the current bar's
    current: list[int] = []
    session = start([], [])
    logp_sum, drawn = 0.0, 0
    while True:
        mask, forced = grammar.allowed()
        logits = session.logits
        if forced is None:
            masked = logits.float().masked_fill(~torch.as_tensor(mask), -torch.inf)
            tok = int(perturb(masked, temperature, gen, top_k, top_p).argmax())
            logp_sum += float(torch.log_softmax(masked, -1)[tok])
            drawn += 1
            tok = grammar.fix(tok)
        else:
            tok = forced
        if grammar.push(tok):
            break
        if Vocab.kind(tok) == "bar" and current:
            written.append(current)
            current = []
        current.append(tok)
        if session.room < 1:  # rebuild from whole bars, the open bar replayed after them
            session = start(written, current)
        else:
            session.feed([tok])
    written.append(current)
    if end_home and after is None:
        end_last_note(model, context(written[:-1]), written[-1], templates[-1],
                      home_pitch_classes(sum(before + written, [])),
                      (temperature, gen, top_k, top_p))
    return Draw(tokens_to_notes(sum(written, [])), logp_sum / max(drawn, 1))


def home_pitch_classes(tokens: list[int]) -> set[int]:
    """Where a line of ``tokens`` may end home: the tonic of its estimated key and of the
    relative key (``keys.home_tonics``), read as the band's cadence rule reads the melody
    (``keys.estimate_key``, duration-weighted), so that the band lands with it."""
    from ...keys import estimate_key, home_tonics

    notes = [n for bar in tokens_to_notes(tokens) for n in bar]
    return set(home_tonics(*estimate_key([p for _, p, _ in notes], [d for _, _, d in notes])))


def end_last_note(model: MelodyTransformer, context: list[int], last_bar: list[int],
                  bar: MelodyBar, end_on: set[int], sampling) -> None:
    """The ending rule (a song's continuation, ``pipeline.continue_first``): the last bar
    ``last_bar`` (its tokens, changed in place) ends on one long note. Its last note that
    starts in the first half of the bar (else its last note) is drawn again from the
    model, after ``context`` and the bar's tokens before it, among the pitches whose class
    is in ``end_on`` (``home_pitch_classes``), and held to the end of the bar ``bar``; the
    notes after it go. ``sampling``: ``(temperature, generator, top_k, top_p)``. Without
    it, a continuation cut at the bar count stops wherever the model was (the pop hook's G
    on the last 8th, over F)."""
    notes, pos = [], None
    for i, t in enumerate(last_bar):
        if Vocab.kind(t) == "pos":
            pos = t - Vocab.POS
        elif Vocab.kind(t) == "pitch":
            notes.append((i, pos))
    if not notes:
        return
    half = bar.offset + bar.length / 2
    k, pos = next((n for n in reversed(notes) if n[1] <= half), notes[-1])
    logits = Session(model, context + last_bar[:k]).logits.float()
    pcs = (np.arange(Vocab.DUR - Vocab.PITCH) + PITCH_LOW) % 12
    allowed = torch.zeros(Vocab.SIZE, dtype=torch.bool)
    allowed[Vocab.PITCH:Vocab.DUR] = torch.as_tensor(np.isin(pcs, list(end_on)))
    temperature, gen, top_k, top_p = sampling
    masked = logits.masked_fill(~allowed, -torch.inf)
    pitch = int(perturb(masked, temperature, gen, top_k, top_p).argmax())
    rest = bar.offset + bar.length - pos  # ticks to the bar line; the first length reaching it
    last_bar[k:] = [pitch, Vocab.DUR + min(int(np.searchsorted(DURATIONS, rest)),
                                           len(DURATIONS) - 1)]


def template(bar: MelodyBar) -> MelodyBar:
    """The bar without its notes (its meter, length, offset and chords)."""
    return MelodyBar(bar.meter, bar.length, bar.offset, [], list(bar.chords))


def tokens_of(bars: list[MelodyBar], chords: bool) -> list[list[int]]:
    return [bar_tokens(b, chords) for b in bars]

