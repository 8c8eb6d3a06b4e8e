"""String-quartet measures of issue 22, checked on hand-made excerpts with known answers."""

import math

import numpy as np

from deepcompose.metrics import strings as S


def test_in_range_counts_notes_from_the_lowest_open_string():
    assert S.in_range([(54, 0, 1), (55, 1, 2), (60, 2, 3), (70, 3, 4)], 55) == 0.75
    assert math.isnan(S.in_range([], 55))
    shares = S.range_shares({"violin1": [(76, 0, 1)], "violin2": [(52, 0, 1)],
                             "viola": [(48, 0, 1), (47, 1, 2)], "cello": [(35, 0, 1)]})
    assert shares == {"violin1": 1.0, "violin2": 0.0, "viola": 0.5, "cello": 0.0}


def test_cello_lowest_counts_steps_with_two_parts():
    cello = [(36, 0, 2), (50, 2, 4)]          # lowest for 2 beats, then above the viola
    viola = [(48, 0, 4)]
    violin = [(72, 0, 4)]
    assert S.cello_lowest(cello, [viola, violin]) == 0.5
    # a unison with the viola is lowest; a step where only one part sounds is not counted
    assert S.cello_lowest([(48, 0, 1)], [[(48, 0, 2)]]) == 1.0
    # a silent cello under two sounding parts is not the lowest part
    assert S.cello_lowest([(36, 0, 1)], [[(60, 0, 2)], [(67, 0, 2)]]) == 0.5


def test_onsets_count_a_double_stop_once():
    part = [(60, 0, 1), (67, 0, 1), (62, 1, 2), (64, 2, 3), (65, 3.5, 4)]
    assert list(S.onsets(part)) == [0.0, 1.0, 2.0, 3.5]
    assert S.onsets_per_bar(part, 2) == 2.0


def test_independence_is_the_share_of_onsets_off_the_melody_onsets():
    melody = [(72, b, b + 1) for b in range(4)]
    part = [(60, 0, 0.5), (64, 0.5, 1), (67, 0.5, 1), (60, 1, 1.5), (60, 1.5, 2)]
    assert S.independence(part, melody) == 0.5
    assert S.independence([(60, 1.02, 2)], melody) == 0.0       # within 1/24 beat
    assert S.independence([(60, 1.25, 2)], melody) == 1.0       # a 16th off
    assert math.isnan(S.independence([], melody))
    assert S.independence(part, []) == 1.0


def _bars(*contents):
    """Notes of 4/4 bars: each bar a list of (pitch, beat in bar, length)."""
    return [(p, 4 * i + b, 4 * i + b + d) for i, bar in enumerate(contents)
            for p, b, d in bar]


def test_form_rewards_an_accompaniment_that_repeats_with_the_melody():
    lines = [0, 4, 8, 12, 16]
    a, b, c = [(72, 0, 2), (74, 2, 2)], [(76, 0, 4)], [(79, 0, 1), (77, 1, 3)]
    melody = _bars(a, b, a, c)                 # bars 0 and 2 are the same
    x, y, z = [(48, 0, 4)], [(43, 0, 4)], [(41, 0, 2), (45, 2, 2)]
    follows = _bars(x, y, x, z)                # repeats where the melody does
    ignores = _bars(x, x, y, z)                # repeats elsewhere
    assert S.form_counts(melody, [follows], lines) == (1.0, 1, 0.0, 5)
    assert S.form_repeat(melody, [follows], lines) == {"repeat": 1.0, "other": 0.0,
                                                       "lift": 1.0}
    r = S.form_repeat(melody, [ignores], lines)
    assert r["repeat"] == 0.0 and r["other"] == 0.2 and r["lift"] < 0
    # the part a note belongs to matters: the same notes in another part are not a repeat
    assert S.form_counts(_bars(a, a), [_bars(x), _bars([], x)], [0, 4, 8])[:2] == (0.0, 1)


def test_form_repeat_pairs_are_issue_21s_measure():
    from deepcompose.metrics.arrangement import repeat_similarity_counts

    rng = np.random.default_rng(0)
    lines = [4.0 * i for i in range(9)]
    for _ in range(20):
        motifs = [[(int(rng.integers(60, 84)), b / 2, 0.5) for b in rng.choice(8, 3)]
                  for _ in range(3)]
        melody = _bars(*(motifs[int(k)] for k in rng.integers(0, 3, 8)))
        acc = [_bars(*([(int(rng.integers(36, 60)), float(rng.integers(0, 4)), 1.0)]
                       for _ in range(8))) for _ in range(3)]
        got = S.form_counts(melody, acc, lines)[:2]
        want = repeat_similarity_counts(melody, acc, 8, 4.0)
        assert got[1] == want[1] and abs(got[0] - want[0]) < 1e-12


def test_form_without_a_melody_repeat_is_nan():
    melody = _bars([(72, 0, 4)], [(74, 0, 4)])
    r = S.form_repeat(melody, [_bars([(48, 0, 4)], [(48, 0, 4)])], [0, 4, 8])
    assert math.isnan(r["repeat"]) and r["other"] == 1.0 and math.isnan(r["lift"])


def _quartet(violin2_pitch=67):
    """Two 4/4 bars in C major: melody C5-E5-G5-C6 twice over held C-E-G-C chords."""
    melody = _bars([(72, 0, 1), (76, 1, 1), (79, 2, 1), (84, 3, 1)],
                   [(72, 0, 1), (76, 1, 1), (79, 2, 1), (84, 3, 1)])
    return {"violin1": melody,
            "violin2": _bars([(violin2_pitch, 0, 4)], [(violin2_pitch, 0, 4)]),
            "viola": _bars([(64, 0, 2), (64, 2, 2)], [(64, 0, 2), (64, 2, 2)]),
            "cello": _bars([(48, 0, 4)], [(48, 0, 4)])}


def test_excerpt_measures_on_a_consonant_quartet():
    m = S.excerpt_measures(_quartet(), [0, 4, 8], key=(0, "major"))
    assert m["consonance"] == 1.0 and m["keyfit"] == 1.0 and m["coverage"] == 1.0
    assert m["cello_lowest"] == 1.0
    assert all(m[f"in_range_{r}"] == 1.0 for r in S.ROLES)
    assert m["onsets_per_bar_violin1"] == 4.0 and m["onsets_per_bar_viola"] == 2.0
    assert m["independence_viola"] == 0.0
    assert (m["form_rep_sum"], m["form_rep_n"]) == (1.0, 1)


def test_a_dissonant_violin2_lowers_consonance_and_key_fit():
    good = S.excerpt_measures(_quartet(), [0, 4, 8], key=(0, "major"))
    bad = S.excerpt_measures(_quartet(violin2_pitch=66), [0, 4, 8], key=(0, "major"))
    assert bad["consonance"] < good["consonance"] and bad["keyfit"] < 1.0


def test_pool_means_ratios_and_pools_form_pairs():
    a = {"consonance": 1.0, "keyfit": math.nan, "form_rep_sum": 1.0, "form_rep_n": 1,
         "form_other_sum": 0.0, "form_other_n": 3}
    b = {"consonance": 0.5, "keyfit": 0.8, "form_rep_sum": 0.0, "form_rep_n": 1,
         "form_other_sum": 1.0, "form_other_n": 1}
    p = S.pool([a, b])
    assert p["consonance"] == 0.75 and p["keyfit"] == 0.8
    assert p["form_repeat"] == 0.5 and p["form_other"] == 0.25 and p["form_lift"] == 0.25
    assert p["form_repeat_pairs"] == 2


def test_bar_sets_place_notes_in_their_bars():
    sets = S.bar_sets([(60, 0, 1), (62, 3.5, 4), (64, 4.25, 5), (65, 9, 10)], [0, 4, 8])
    assert sets == [frozenset({(0, 60), (14, 62)}), frozenset({(1, 64)})]
    assert np.isnan(S.jaccard(frozenset(), frozenset()))
