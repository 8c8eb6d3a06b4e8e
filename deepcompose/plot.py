"""Piano-roll PNG of a Song (``compose --plot OUT.png``); needs the ``plot`` extra.

x axis: beats (quarter notes) from the start of the song, with a bar line at
every bar of the song's bar map (``Song.bar_map()``: the pickup and every change of meter).
y axis: MIDI pitch, labelled at every C. One colour per track; the melody is
drawn with a black outline and named "(melody)" in the legend. Drum tracks
(``Track.is_drum``) get a lane of their own under the pitched roll: one row per
General MIDI drum sound they play, labelled with its name.

matplotlib is imported only when a plot is made, through its object API with
the Agg canvas (no pyplot, no ``matplotlib.use``), so no global state changes.
"""

from __future__ import annotations

from .errors import DeepcomposeError

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf")
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
DPI = 100
HEIGHT_IN = 5.0
MAX_WIDTH_IN = 40.0  # long songs get squeezed rather than a giant image
DRUM_LANE_IN = 0.6  # the drum lane: this much plus DRUM_ROW_IN per drum sound
DRUM_ROW_IN = 0.2
DRUM_HIT_BEATS = 0.125  # a drum hit is drawn at least this wide


def require_matplotlib() -> None:
    """Raise DeepcomposeError naming the ``plot`` extra when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise DeepcomposeError(
            "--plot needs matplotlib: pip install 'deepcompose[plot]'"
        ) from None


def pitch_label(pitch: int) -> str:
    """MIDI pitch -> name with octave, middle C (60) = C4."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def bar_lines(song, end_beat: float) -> list[float]:
    """Beats where bar lines fall up to ``end_beat``: from the first full bar line (after
    the pickup) through every change of meter, as ``Song.bar_map()`` counts bars."""
    return song.bar_map().lines(end_beat)


def drum_rows(song) -> list[int]:
    """The General MIDI drum keys the drum tracks play, low to high: the drum lane's rows."""
    return sorted({n.pitch for t in song.tracks if t.is_drum for n in t.notes})


def drum_label(key: int) -> str:
    """General MIDI drum key -> its sound's name (``36`` -> ``"Bass Drum 1 (36)"``)."""
    import pretty_midi

    try:
        name = pretty_midi.note_number_to_drum_name(key)
    except (ValueError, IndexError):
        name = ""
    return f"{name} ({key})" if name else f"drum {key}"


def title(song) -> str:
    """The plot's title: tracks, meter, tempo and the key as ``inspect`` reports it (the
    estimate of ``keys.song_key``, then the source's key signature when that differs)."""
    from . import keys

    _, num, den = song.time_signatures[0]
    text = f"{len(song.tracks)} tracks, {num}/{den}, {song.tempos[0][1]:g} bpm"
    key = keys.song_key_name(song)
    if key:
        text += f", {key}"
    if song.key and song.key != key:
        text += f" (key signature {song.key})"
    return text


def plot_song(song, path, melody_index: int = 0) -> None:
    """Write a piano roll of ``song`` to ``path`` (PNG, atomically); mark track ``melody_index``.

    Pitched tracks share the roll; drum tracks are drawn in a lane below it (``drum_rows``).
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    from .atomic import atomic_path

    notes = [n for t in song.tracks for n in t.notes]
    pitched = [n for t in song.tracks if not t.is_drum for n in t.notes]
    rows = drum_rows(song)
    end = max([n.end for n in notes], default=4.0)
    low = min([n.pitch for n in pitched], default=60) - 2
    high = max([n.pitch for n in pitched], default=72) + 2

    width = min(MAX_WIDTH_IN, max(8.0, 2.0 + end * 0.18))
    lane = DRUM_LANE_IN + DRUM_ROW_IN * len(rows) if rows else 0.0
    fig = Figure(figsize=(width, HEIGHT_IN + lane), dpi=DPI)
    FigureCanvasAgg(fig)
    if rows:
        grid = fig.add_gridspec(2, 1, height_ratios=(HEIGHT_IN, lane))
        ax = fig.add_subplot(grid[0])
        drums = fig.add_subplot(grid[1], sharex=ax)
    else:
        ax, drums = fig.add_subplot(1, 1, 1), None
    lines = bar_lines(song, end)
    for axis in (ax, drums) if drums is not None else (ax,):
        for b in lines:
            axis.axvline(b, color="#999999", linewidth=0.8, zorder=0)
    for i, track in enumerate(song.tracks):
        if not track.notes:
            continue
        is_melody = i == melody_index and not track.is_drum
        color = COLORS[i % len(COLORS)]
        if track.is_drum:  # a row per drum sound, in the lane
            boxes = [Rectangle((n.start, rows.index(n.pitch) - 0.35),
                               max(n.end - n.start, DRUM_HIT_BEATS), 0.7) for n in track.notes]
            drums.add_collection(PatchCollection(boxes, facecolor=color, edgecolor="none",
                                                 zorder=2))
        else:
            boxes = [Rectangle((n.start, n.pitch - 0.4), n.end - n.start, 0.8)
                     for n in track.notes]
            ax.add_collection(PatchCollection(
                boxes, facecolor=color, edgecolor="black" if is_melody else "white",
                linewidth=1.6 if is_melody else 0.5,
                zorder=3 if is_melody else 2))
        label = track.name or f"track {i}"
        if is_melody and "melody" not in label.lower():
            label += " (melody)"
        ax.add_patch(Rectangle((0, 0), 0, 0, facecolor=color, label=label,
                               edgecolor="black" if is_melody else "white",
                               linewidth=1.6 if is_melody else 0.5))

    ax.set_xlim(0, end)
    ax.set_ylim(low, high)
    cs = [p for p in range(low, high + 1) if p % 12 == 0]
    ax.set_yticks(cs, [pitch_label(p) for p in cs])
    ax.set_ylabel("pitch")
    ax.grid(axis="y", color="#dddddd", linewidth=0.5)
    ax.set_title(title(song))
    xlabel = "beats (quarter notes); vertical lines are bar lines"
    if drums is not None:
        ax.tick_params(axis="x", labelbottom=False)
        drums.set_ylim(-0.5, len(rows) - 0.5)
        drums.set_yticks(range(len(rows)), [drum_label(k) for k in rows], fontsize="small")
        drums.grid(axis="y", color="#dddddd", linewidth=0.5)
        drums.set_ylabel("drums")
        drums.set_xlabel(xlabel)
    else:
        ax.set_xlabel(xlabel)
    if any(t.notes for t in song.tracks):
        ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize="small",
                  borderaxespad=0.0)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
