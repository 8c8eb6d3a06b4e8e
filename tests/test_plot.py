"""Piano-roll PNG: a real, readable picture; a clear error without matplotlib."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from deepcompose.errors import DeepcomposeError
from deepcompose.plot import (
    COLORS,
    DPI,
    DRUM_LANE_IN,
    DRUM_ROW_IN,
    HEIGHT_IN,
    bar_lines,
    drum_label,
    drum_rows,
    plot_song,
    require_matplotlib,
)
from deepcompose.song import Note, Song, Track

pytest.importorskip("matplotlib")


def song(pickup=0.0, ts=(4, 4)):
    melody = [Note(67 + (i % 5), i * 1.0, i * 1.0 + 0.9, 90) for i in range(16)]
    parts = [Track(name, 0, False, [Note(p, b, b + 2.0, 80) for b in range(0, 16, 2)])
             for name, p in (("Alto", 60), ("Tenor", 55), ("Bass", 43))]
    return Song(tracks=[Track("Soprano", 0, False, melody), *parts],
                time_signatures=[(0.0, *ts)], pickup=pickup)


def colour_pixels(img: np.ndarray, hex_colour: str, tol: float = 0.02) -> int:
    rgb = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return int(np.sum(np.all(np.abs(img[..., :3] - rgb) < tol, axis=-1)))


def test_png_has_the_right_size_and_every_track_colour(tmp_path):
    import matplotlib.image

    out = tmp_path / "roll.png"
    plot_song(song(), out)
    img = matplotlib.image.imread(out)
    assert img.shape[0] == round(HEIGHT_IN * DPI) and img.shape[1] >= 8 * DPI
    assert img[..., :3].std() > 0.1  # not blank
    for colour in COLORS[:4]:  # one colour per track, each visible
        assert colour_pixels(img, colour) > 200, colour
    assert list(tmp_path.iterdir()) == [out]  # no temp file left behind


def test_bar_lines_follow_meter_and_pickup():
    assert bar_lines(song(), 16) == [0, 4, 8, 12, 16]
    assert bar_lines(song(ts=(3, 4)), 9) == [0, 3, 6, 9]
    assert bar_lines(song(pickup=1.0, ts=(3, 4)), 8) == [1, 4, 7]  # first full bar after 1 beat
    changed = song()
    changed.time_signatures = [(0, 4, 4), (8, 3, 4), (14, 4, 4)]
    assert bar_lines(changed, 22) == [0, 4, 8, 11, 14, 18, 22]


def test_bar_lines_come_from_the_songs_bar_map():
    changed = song(pickup=1.0)
    changed.time_signatures = [(0, 4, 4), (17, 3, 4), (23, 4, 4)]
    assert bar_lines(changed, 31) == changed.bar_map().lines(31) == [
        1, 5, 9, 13, 17, 20, 23, 27, 31]


def test_drums_get_a_lane_of_their_own_below_the_pitched_roll(tmp_path):
    import matplotlib.image

    band = song()
    kit = [Note(36 if b % 2 == 0 else 38, b, b + 0.125, 100) for b in range(16)]
    kit += [Note(42, b + 0.5, b + 0.625, 70) for b in range(16)]
    band.tracks.append(Track("Drums", 0, True, kit))
    assert drum_rows(band) == [36, 38, 42]
    assert drum_label(36) == "Bass Drum 1 (36)" and drum_label(20) == "drum 20"
    out = tmp_path / "band.png"
    plot_song(band, out)
    img = matplotlib.image.imread(out)
    lane = DRUM_LANE_IN + DRUM_ROW_IN * 3
    assert img.shape[0] == round((HEIGHT_IN + lane) * DPI)
    drum = COLORS[4]
    roll = img[:, : img.shape[1] * 3 // 5]  # left of the legend
    top = round(HEIGHT_IN * DPI * 0.9)  # the pitched roll ends above the lane
    assert colour_pixels(roll[top:], drum) > 100  # the hits, in the lane
    assert colour_pixels(roll[:top], drum) == 0  # none among the pitches over the bass
    assert colour_pixels(img[:top], drum) > 20  # its legend entry
    for colour in COLORS[:4]:
        assert colour_pixels(roll[:top], colour) > 200, colour
        assert colour_pixels(roll[top:], colour) == 0, colour


def test_a_song_without_drums_has_no_lane(tmp_path):
    import matplotlib.image

    plot_song(song(), tmp_path / "roll.png")
    assert matplotlib.image.imread(tmp_path / "roll.png").shape[0] == round(HEIGHT_IN * DPI)
    assert drum_rows(song()) == []


def test_plot_changes_no_global_matplotlib_state(tmp_path):
    import matplotlib

    backend, rc = matplotlib.get_backend(), dict(matplotlib.rcParams)
    plot_song(song(), tmp_path / "a.png")
    assert matplotlib.get_backend() == backend
    assert dict(matplotlib.rcParams) == rc


def test_plotting_never_imports_pyplot(tmp_path):
    import subprocess

    code = ("import sys; from deepcompose.plot import plot_song; from deepcompose.song import "
            "Note, Song, Track; plot_song(Song(tracks=[Track('m', 0, False, "
            f"[Note(60, 0, 1, 90)])]), {str(tmp_path / 'a.png')!r}); "
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # pyplot would set a global backend


def test_title_names_the_key_inspect_reports():
    from deepcompose.inspect import describe
    from deepcompose.plot import title

    # a D major tune (D E F# G A B C#) whose file claims an A minor key signature
    scale = [62, 64, 66, 67, 69, 71, 73, 74, 69, 66, 62]
    s = Song(tracks=[Track("Tune", 0, False, [Note(p, i, i + 1.0, 90)
                                              for i, p in enumerate(scale)])],
             key="A minor")
    assert describe(s)["key"] == "D major"
    assert "D major" in title(s) and "A minor" not in title(s).split("(")[0]
    assert "key signature A minor" in title(s)  # the source's signature, named as such
    for track_song in (song(), song(pickup=1.0, ts=(3, 4))):
        assert describe(track_song)["key"] in title(track_song)


def test_unwritable_path_is_a_clear_error_and_leaves_nothing(tmp_path):
    with pytest.raises(DeepcomposeError, match="cannot write"):
        plot_song(song(), tmp_path / "missing" / "roll.png")
    assert list(tmp_path.iterdir()) == []


def test_without_matplotlib_a_clear_error_naming_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(DeepcomposeError, match=r"deepcompose\[plot\]"):
        require_matplotlib()
    with pytest.raises(DeepcomposeError, match="matplotlib"):
        plot_song(song(), tmp_path / "roll.png")
    assert list(tmp_path.iterdir()) == []


def test_importing_deepcompose_plot_does_not_import_matplotlib():
    import subprocess

    code = "import deepcompose.plot, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
