"""The melody transformer (``--model transformer --style pop|folk|classical``): its tokens,
legal sampling, training, and what a user gets from the shipped weights."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from deepcompose import compose  # noqa: E402
from deepcompose.metrics import melody as mm  # noqa: E402
from deepcompose.models.melody import net, sampling  # noqa: E402
from deepcompose.models.melody.train import draw_window, make_trainer  # noqa: E402
from deepcompose.representations import melody_tokens as mt  # noqa: E402
from deepcompose.representations.bars import BarMap  # noqa: E402
from deepcompose.song import Note, Song, Track  # noqa: E402

# 4 bars of 3/4 with a one-beat pickup, 8th-note triplets in bar 2, then a bar of 2/4
NOTES = [(67, 0.0, 1.0), (72, 1.0, 2.0), (71, 2.0, 2.5), (69, 2.5, 3.0), (67, 3.0, 4.0),
         (65, 4.0, 4 + 1 / 3), (64, 4 + 1 / 3, 4 + 2 / 3), (62, 4 + 2 / 3, 5.0),
         (60, 5.0, 7.0), (62, 7.0, 8.0), (64, 8.0, 10.0), (65, 10.0, 11.0), (67, 11.0, 12.0)]
SIGS = [(0.0, 3, 4), (10.0, 2, 4)]


def folk_song(bars: int = 8) -> Song:
    """A plain 4/4 tune of ``bars`` bars: quarter and eighth notes in C major."""
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    notes, t = [], 0.0
    for b in range(bars):
        for k, d in enumerate((1.0, 0.5, 0.5, 1.0, 1.0)):
            notes.append(Note(scale[(b + k * 2) % 8], t, t + d - 0.05, 80 + k))
            t += d
    return Song(tracks=[Track("Fiddle", 40, False, notes)], tempos=[(0.0, 120.0)],
                time_signatures=[(0.0, 4, 4)])


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return net.MelodyTransformer(dict(net.TINY_CONFIG)).eval()


def test_tokens_keep_meter_pickup_and_triplets():
    bars = mt.line_to_bars(NOTES, BarMap.of(SIGS, pickup=1.0), 12.0)
    assert [b.meter for b in bars] == [(3, 4), (3, 4), (3, 4), (3, 4), (2, 4)]
    assert bars[0].offset == 24 and bars[0].length == 12  # the pickup sits at the bar's end
    assert [p for p, _, _ in bars[2].notes] == [0, 4, 8, 12]  # triplets on the 12-tick grid
    toks = mt.continue_tokens("folk", bars)
    assert toks[:2] == [mt.Vocab.BOS, mt.Vocab.STYLE + mt.STYLES.index("folk")]
    assert toks[2] == mt.Vocab.BAR + mt.METERS.index((3, 4))
    back = mt.tokens_to_notes(toks)
    assert back == [[(p, q, d) for p, q, d in b.notes] for b in bars]


def test_infill_sequence_puts_the_hole_after_both_sides():
    bars = mt.line_to_bars(NOTES, BarMap.of(SIGS, pickup=1.0), 12.0)
    seq = mt.infill_tokens("pop", bars[:2], bars[4:], bars[2:4])
    hole = seq.index(mt.Vocab.HOLE + 1)  # a hole of 2 bars
    mid = seq.index(mt.Vocab.MID)
    assert mt.tokens_to_notes(seq[2:hole]) == [b.notes for b in bars[:2]]
    assert mt.tokens_to_notes(seq[hole + 1:mid]) == [b.notes for b in bars[4:]]
    assert mt.tokens_to_notes(seq[mid + 1:-1]) == [b.notes for b in bars[2:4]]
    assert seq[-1] == mt.Vocab.EOS


def test_transposition_moves_notes_and_chord_roots():
    bar = mt.MelodyBar((4, 4), 48, 0, [(0, 60, 12)], [(0, 1 + 0 * 15)])  # C:maj
    up = mt.transpose([bar], 2)[0]
    assert up.notes == [(0, 62, 12)]
    from deepcompose.chords import class_label
    assert class_label(up.chords[0][1]).startswith("D:")


def test_sampling_writes_legal_bars_and_forced_chords(tiny):
    templates = [mt.MelodyBar((3, 4), 36, 0, [], [(0, 1), (24, 50)]),
                 mt.MelodyBar((6, 8), 36, 0, [], [(12, 100)])]
    for seed in range(4):
        draw = sampling.decode(tiny, [], templates, "pop", seed, chords=True)
        assert len(draw.bars) == 2
        for notes, tpl in zip(draw.bars, templates, strict=True):
            pos = [p for p, _, _ in notes]
            assert pos == sorted(set(pos)) and all(0 <= p < tpl.length for p in pos)
            assert all(mt.PITCH_LOW <= q <= mt.PITCH_HIGH for _, q, _ in notes)
        assert np.isfinite(draw.score)


def test_new_bars_get_notes_unless_the_rule_is_off(tiny):
    bars = [mt.MelodyBar((4, 4), 48)] * 12
    filled = [sum(bool(b) for b in sampling.decode(tiny, [], bars, "pop", s).bars)
              for s in range(3)]
    assert filled == [12, 12, 12]
    loose = [sum(bool(b) for b in sampling.decode(tiny, [], bars, "pop", s,
                                                  empty_bars=True).bars) for s in range(3)]
    assert min(loose) < 12  # the untrained model closes bars at random without the rule


def test_forced_chords_are_in_the_sampled_tokens(tiny, monkeypatch):
    seen = []
    real = sampling.Grammar.push

    def spy(self, tok):
        seen.append(tok)
        return real(self, tok)

    monkeypatch.setattr(sampling.Grammar, "push", spy)
    tpl = [mt.MelodyBar((4, 4), 48, 0, [], [(0, 1), (24, 50)])]
    sampling.decode(tiny, [], tpl, "pop", 3, chords=True)
    chords = mt.tokens_to_chords(seen)
    assert chords[0] == [(0, 1), (24, 50)]


def test_a_note_may_start_where_a_chord_is_forced():
    # training sequences read POS CHORD PITCH DUR; the sampler must allow the same, or no
    # note could ever start on a chord change (the downbeats, in pop)
    grammar = sampling.Grammar([mt.MelodyBar((4, 4), 48, 0, [], [(0, 5), (24, 7)])], True, 96)
    grammar.push(grammar.allowed()[1])  # the bar token
    grammar.push(mt.Vocab.POS + 0)
    mask, forced = grammar.allowed()
    assert forced == mt.Vocab.CHORD + 5
    grammar.push(forced)
    mask, forced = grammar.allowed()
    assert forced is None
    assert mask[mt.Vocab.PITCH:mt.Vocab.DUR].all()  # the chord's own note
    assert mask[mt.Vocab.POS + 1:mt.Vocab.POS + 25].all()  # or a later onset, up to the next chord
    assert not mask[mt.Vocab.POS + 25:mt.Vocab.PITCH].any()


def test_long_continuations_slide_the_window(tiny):
    """32 new bars through a 96-token window: the cache is rebuilt, every bar comes back."""
    bars = mt.line_to_bars(NOTES, BarMap.of(SIGS, pickup=1.0), 12.0)
    draw = sampling.decode(tiny, [mt.bar_tokens(b) for b in bars],
                           [mt.MelodyBar((4, 4), 48)] * 32, "folk", 0)
    assert len(draw.bars) == 32


def test_bar_numbers_run_through_a_fill_in_the_middle_sequence():
    """The bar bias needs each token's bar in the piece: the suffix after ``HOLE_2`` counts
    from after the hole, the middle after ``MID`` from before it."""
    bars = mt.line_to_bars(NOTES, BarMap.of(SIGS, pickup=1.0), 12.0)  # 5 bars: pickup + 4
    toks = [mt.bar_tokens(b) for b in bars]
    seq = mt.fim_tokens("folk", sum(toks[:2], []), sum(toks[4:], []), 2, sum(toks[2:4], []))
    _, _, numbers, _ = net.bar_state(np.asarray(seq))
    at_bar_tokens = [int(n) for t, n in zip(seq, numbers, strict=True)
                     if mt.Vocab.kind(t) == "bar"]
    assert at_bar_tokens == [0, 1, 4, 2, 3]


def test_cached_decoding_sees_what_the_full_pass_sees():
    """With a trained (non-zero) bar bias, logits from the KV cache token by token equal
    one pass over the whole sequence, for a continuation and an infill."""
    torch.manual_seed(1)
    model = net.MelodyTransformer(dict(net.TINY_CONFIG)).eval()
    with torch.no_grad():
        model.bar_bias.table.normal_(0, 0.1)
    bars = mt.line_to_bars(NOTES, BarMap.of(SIGS, pickup=1.0), 12.0)
    toks = [mt.bar_tokens(b) for b in bars]
    for seq in (mt.head("folk") + sum(toks, []),
                mt.fim_tokens("folk", toks[0], sum(toks[3:], []), 2, sum(toks[1:3], []))):
        with torch.no_grad():
            full = model.run(np.asarray(seq))
            session = sampling.Session(model, seq[:5])
            steps = [session.logits] + [session.feed([t]) for t in seq[5:]]
        assert torch.allclose(full[4:], torch.stack(steps), atol=1e-4)


def test_a_long_infill_keeps_its_bar_numbers_when_the_window_slides(tiny, monkeypatch):
    """A 12-bar hole through a 96-token window: the context is rebuilt without the hole's
    first bars, yet the last bar written is still counted as the hole's 12th."""
    bars = mt.line_to_bars(NOTES, BarMap.of(SIGS, pickup=1.0), 12.0)
    toks = [mt.bar_tokens(b) for b in bars]
    seen, skipped = [], []
    feed, skip = sampling.Session.feed, sampling.Session.skip

    def spy_feed(self, t):
        out = feed(self, t)
        seen.append(self.state)
        return out

    def spy_skip(self, k):
        skipped.append(k)
        skip(self, k)

    monkeypatch.setattr(sampling.Session, "feed", spy_feed)
    monkeypatch.setattr(sampling.Session, "skip", spy_skip)
    draw = sampling.decode(tiny, toks[:2], [mt.MelodyBar((4, 4), 48)] * 12, "folk", 0,
                           after=toks[2:])
    assert len(draw.bars) == 12 and max(skipped) > 0
    _, _, bar, before_hole = seen[-1]
    assert bar - before_hole == 12


def test_weights_from_before_the_bar_bias_still_load_and_play():
    """0.4.0-0.4.2 weights (no ``bar_bias`` in their config, no table) load as they were."""
    from deepcompose.models.melody.player import MelodyPlayer

    cfg = {k: v for k, v in net.TINY_CONFIG.items() if k != "bar_bias"}
    old = net.MelodyTransformer({**cfg, "bar_bias": False})
    assert not any("bar_bias" in k for k in old.state_dict())
    player = MelodyPlayer.from_weights(old.state_dict(), {"config": cfg, "styles": ["folk"]})
    assert player.model.bar_bias is None
    bars = mt.line_to_bars(NOTES, BarMap.of(SIGS, pickup=1.0), 12.0)
    draw = player.continue_line(bars, [mt.MelodyBar((4, 4), 48)] * 2, "folk", seed=0)
    assert len(draw.bars) == 2 and all(draw.bars)


def test_training_windows_fit_and_mix_fill_in_the_middle():
    from deepcompose.data.melody_lines import Line

    bars = mt.line_to_bars(NOTES * 1, BarMap.of(SIGS, pickup=1.0), 12.0) * 6
    line = Line("folk", "t", bars)
    cfg = {**net.TINY_CONFIG, "fim": 0.5}
    rng = np.random.default_rng(0)
    seqs = [draw_window(line, rng, cfg) for _ in range(200)]
    assert all(len(s) <= cfg["window"] + 1 for s in seqs)
    assert 0.3 < np.mean([mt.Vocab.MID in s for s in seqs]) < 0.7


def test_tiny_training_lowers_the_loss():
    from deepcompose.data.melody_lines import Line

    bars = mt.line_to_bars([(p, s, e) for p, s, e in NOTES], BarMap.of(SIGS, 1.0), 12.0)
    lines = [Line("folk", f"t{i}", bars * 3) for i in range(4)]
    torch.manual_seed(0)
    trainer = make_trainer({**net.TINY_CONFIG, "batch": 8}, lines, lines[:1])
    rng = np.random.default_rng(0)
    first = np.mean([trainer.train_step(rng)["loss"] for _ in range(3)])
    for _ in range(40):
        last = trainer.train_step(rng)["loss"]
    assert last < first - 0.5
    assert np.isfinite(trainer.validate()["nll_folk"])


# ---------------------------------------------------------------- shipped weights


def test_continue_keeps_the_melody_and_adds_bars_in_its_style():
    song = folk_song(8)
    out = compose(song, model="transformer", style="folk", task="continue", bars=8, seed=1)
    assert len(out.tracks) == 1 and out.tracks[0].program == 40
    assert out.tracks[0].notes[:len(song.tracks[0].notes)] == song.tracks[0].notes
    new = [(n.pitch, n.start, n.end) for n in out.tracks[0].notes[len(song.tracks[0].notes):]]
    spans = [(32.0 + 4 * k, 36.0 + 4 * k) for k in range(8)]
    assert min(s for _, s, _ in new) >= 32.0 and max(e for _, _, e in new) <= 64.0 + 1e-6
    assert mm.filled_share(new, spans) == 1.0  # the sampler's one rule: no empty new bar
    assert 2.0 <= mm.notes_per_bar(new, spans) <= 12.0
    prompt = [(n.pitch, n.start, n.end) for n in song.tracks[0].notes]
    assert mm.pc_similarity(new, prompt) > 0.6  # stays in the tune's key
    assert out.time_signatures == song.time_signatures and out.tempos == song.tempos


def test_continue_a_jig_in_six_eight_with_a_pickup():
    """6/8 with an eighth-note pickup: the new bars follow the meter and the pickup's
    bar lines, and the tune goes on in eighths."""
    line = [67, 72, 71, 72, 74, 72, 71, 69, 67, 69, 71, 72, 74, 76, 74, 72, 71, 69]
    notes = [Note(67, 0.0, 0.5, 90)] + [Note(p, 0.5 + 0.5 * k, 1.0 + 0.5 * k, 90)
                                        for k, p in enumerate(line * 2)]
    song = Song(tracks=[Track("Whistle", 78, False, notes)], tempos=[(0.0, 100.0)],
                time_signatures=[(0.0, 6, 8)], pickup=0.5)
    out = compose(song, model="transformer", style="folk", task="continue", bars=4, seed=1)
    end = 0.5 + 3.0 * 6  # the pickup, then 6 bars of 6/8 (3 beats each)
    new = [n for n in out.tracks[0].notes if n.start >= end - 1e-6]
    assert new and max(n.end for n in new) <= end + 12.0 + 1e-6
    assert out.pickup == 0.5 and out.time_signatures == [(0.0, 6, 8)]
    eighths = [abs(n.start * 2 - round(n.start * 2)) < 1e-6 for n in new]
    assert np.mean(eighths) >= 0.8  # a jig moves in eighths


def test_same_seed_same_continuation_other_seed_other():
    song = folk_song(4)
    a, b, c = (compose(song, model="transformer", style="pop", task="continue", bars=2, seed=s)
               for s in (3, 3, 4))
    assert a.tracks[0].notes == b.tracks[0].notes != c.tracks[0].notes


def test_pop_continuations_come_back_to_the_prompts_rhythms():
    """Pop songs repeat their bars. On the last 10 POP909 validation songs (the benchmark
    reports the first ones), the 8 new bars reuse a prompt bar's rhythm at least 3/4 as
    often as the singers' next 8 bars do (0.49 here; the shipped weights 0.46 over two
    seeds, the 0.4.2 weights without the bar bias 0.32)."""
    from deepcompose.data.melody_lines import load_lines
    from deepcompose.models.common.weights import get_model

    def reuses(new_bars, prompt):
        return [tuple(n[0] for n in bar) in prompt for bar in new_bars if bar]

    player = get_model("melody")
    real, model = [], []
    for line in [x for x in load_lines("pop", "valid") if len(x.bars) >= 17][-10:]:
        bars = line.bars[1:] if line.bars[0].offset else line.bars
        prompt = {tuple(n[0] for n in b.notes) for b in bars[:8] if b.notes}
        real += reuses([b.notes for b in bars[8:16]], prompt)
        for seed in (1, 2):
            model += reuses(player.continue_line(bars[:8], bars[8:16], "pop", seed=seed).bars,
                            prompt)
    assert np.mean(model) >= 0.75 * np.mean(real)


def test_continue_over_given_chords_lands_on_chord_tones():
    song = folk_song(4)
    chords = "Am | F | C | G"
    hits, on_change = [], []
    for seed in range(3):
        out = compose(song, model="transformer", style="pop", task="continue", bars=4,
                      seed=seed, chords=chords)
        new = [(n.pitch, n.start, n.end) for n in out.tracks[0].notes if n.start >= 16.0]
        hits.append(mm.chord_tone_share(new, out.chords))
        on_change += [abs(start % 4) < 1e-6 for _, start, _ in new]
    assert out.chords[-1][1] >= 32.0  # the progression repeated under the new bars
    assert np.mean([h for h in hits if h is not None]) >= 0.5
    # the sung line lands on the chord changes too (each bar's downbeat here)
    assert sum(on_change) >= 3


def test_infill_rewrites_only_the_chosen_bars():
    song = folk_song(8)
    out = compose(song, model="transformer", style="classical", task="infill", bars="5:6",
                  seed=2)
    outside = [n for n in song.tracks[0].notes if not 16.0 <= n.start < 24.0]
    got = [n for n in out.tracks[0].notes if not 16.0 <= n.start < 24.0]
    assert got == outside
    hole = [n for n in out.tracks[0].notes if 16.0 <= n.start < 24.0]
    assert hole and all(n.end <= 24.0 + 1e-6 for n in hole)


def test_hook_into_an_arranged_song():
    song = folk_song(4)
    out = compose(song, model="gan", style="pop", task="continue", bars=4, seed=1)
    names = [t.name for t in out.tracks]
    assert names[0] == "Fiddle" and {"Bass", "Keys", "Drums"} <= set(names)
    melody = out.tracks[0].notes
    assert melody[:len(song.tracks[0].notes)] == song.tracks[0].notes
    assert max(n.start for n in melody) >= 16.0  # the melody goes on
    for t in out.tracks[1:]:
        assert any(n.start >= 16.0 for n in t.notes), t.name  # the band plays the new bars


def test_a_hook_turned_into_a_song_ends_home():
    """The bundled pop hook (A minor) continued and arranged: the new melody's last note is
    a home tonic (A, or C for the relative major it may read as), held to the last bar
    line, and the band's bass lands on it."""
    from deepcompose.melodies import path as example
    from deepcompose.metrics.cadence import final_bass_home

    out = compose(str(example("pop-hook")), model="gan", style="pop", task="continue",
                  bars=8, seed=1)
    melody = out.tracks[0].notes
    last = max(melody, key=lambda n: n.start)
    assert last.pitch % 12 in (9, 0)  # A minor or its relative, C major
    assert abs(last.end - out.bar_map().end(16)) < 1e-6  # bars 1-16 (the pickup is 0)
    parts = [[(n.pitch, n.start, n.end) for n in t.notes] for t in out.tracks[1:]
             if t.name != "Drums"]
    assert final_bass_home([(n.pitch, n.start, n.end) for n in melody], parts)


def test_the_ending_rule_draws_the_last_note_home(tiny):
    bars = [mt.MelodyBar((4, 4), 48)] * 3
    for seed in range(3):
        free = sampling.decode(tiny, [], bars, "pop", seed)
        home = sampling.decode(tiny, [], bars, "pop", seed, end_home=True)
        assert free.bars[:2] == home.bars[:2]  # only the last bar's ending is drawn again
        pos, pitch, dur = home.bars[-1][-1]
        assert pos <= 24 or len(home.bars[-1]) == len(free.bars[-1])  # a long last note
        line = sum((mt.bar_tokens(mt.MelodyBar((4, 4), 48, 0, b)) for b in free.bars), [])
        assert pitch % 12 in sampling.home_pitch_classes(line)  # the key of the line drawn
        assert pos + dur >= 48  # held to the bar line (the plan cuts it there)


def test_cli_melody_errors_are_one_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    src = tmp_path / "tune.json"
    src.write_text(json.dumps(folk_song(4).to_notes()))
    out = tmp_path / "out.mid"
    compose_bin = Path(sys.executable).parent / "compose"
    for args, words in [
        (["--style", "folk"], "--style folk does task continue or infill only"),
        (["--style", "folk", "--task", "infill", "--bars", "7:9"], "outside the melody"),
        (["--style", "pop", "--task", "infill", "--bars", "2:2", "--chords", "C"],
         "--chords applies to --task continue"),
        (["--style", "jazz", "--task", "continue"], "style must be one of"),
    ]:
        res = subprocess.run([str(compose_bin), "--notes-json", str(src), "--model",
                              "transformer", *args, "-o", str(out)], capture_output=True,
                             text=True, timeout=120)
        assert res.returncode == 2, res.stderr
        assert words in res.stderr and res.stderr.startswith("error:"), res.stderr
        assert res.stderr.count("\n") == 1 and not out.exists()


def test_server_and_batch_continue_a_melody(tmp_path):
    """The server takes task, style and chords for the melody transformer; batch too."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from http_client import call, running_server

    from deepcompose.batch import run_batch

    notes = folk_song(4).to_notes()
    body = {**notes, "model": "transformer", "style": "pop", "task": "continue", "bars": 2,
            "chords": "C | G | Am | F", "seed": 5}
    with running_server() as s:
        status, _, data = call(s, "POST", "/compose", body, timeout=120)
        assert status == 200, data
        answer = json.loads(data)
        assert len(answer["tracks"]) == 1
        assert len(answer["tracks"][0]["notes"]) > len(notes["tracks"][0]["notes"])
        assert answer["chords"]
        status, _, data = call(s, "POST", "/compose", {**body, "task": "accompany"})
        assert status == 400 and "continue or infill" in json.loads(data)["error"]
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    (src / "a.json").write_text(json.dumps(notes))
    summary = run_batch(src, out, model="transformer", task="continue", workers=1,
                        progress=False, style="folk", bars=2)
    assert summary["ok"] == 1, summary
    from deepcompose.song import Song

    got = Song.read(next(out.rglob("a*.mid")))
    assert len(got.tracks) == 1
    assert max(n.end for n in got.tracks[0].notes) > 16.0  # two more bars of 4/4
