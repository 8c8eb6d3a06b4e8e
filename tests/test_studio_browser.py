"""The studio page in a real browser: headless Chromium (Debian's ``chromium`` package)
driven by Playwright, against a live ``deepcompose`` server with the shipped models.

Load a MIDI file, generate with gan, arcnn and transformer, see the result on the roll,
play it (the cursor moves), download, and an error case; no errors in the browser console.
Skips with one line where Chromium or Playwright is missing. Set STUDIO_SCREENSHOTS=DIR to
save screenshots of the main states there (``docs/`` holds the committed ones).
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("DEEPCOMPOSE_CHROMIUM") or shutil.which("chromium") or \
    shutil.which("chromium-browser")
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed "
                       "(pip install -e '.[dev]')"),
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt-get install chromium"),
]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--autoplay-policy=no-user-gesture-required"]
SHOTS = os.environ.get("STUDIO_SCREENSHOTS")
# A 4-bar melody in G, quarter and half notes (short: the tests run the real models).
MELODY = [(67, 0, 1), (69, 1, 1), (71, 2, 1), (67, 3, 1), (71, 4, 1), (72, 5, 1), (74, 6, 2),
          (74, 8, 1), (76, 9, 1), (74, 10, 1), (72, 11, 1), (71, 12, 2), (67, 14, 2)]


def _weights(*names):
    from deepcompose.models.registry import describe as describe_models

    have = {r["name"] for r in describe_models() if r["weights"]}
    return [n for n in names if n not in have]


@pytest.fixture(scope="module")
def server():
    from deepcompose.server import make_server

    s = make_server("127.0.0.1", 0, quiet=True)
    t = threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield s
    s.shutdown()
    s.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 900},
                                  accept_downloads=True)
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(f"page error: {e}"))
    pg.goto(server.url + "/")
    pg.wait_for_selector("body[data-state=idle]", timeout=20_000)
    yield pg
    context.close()


@pytest.fixture(scope="module")
def tune_mid(tmp_path_factory):
    from deepcompose.song import Song

    path = tmp_path_factory.mktemp("studio") / "tune.mid"
    Song.from_tuples(MELODY, tempo=110).write(path)
    return path


def shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"studio-{name}.png"))


def roll(page) -> dict:
    return page.eval_on_selector("#roll", "e => ({...e.dataset})")


def load_midi(page, path):
    page.set_input_files("#upload", str(path))
    page.wait_for_function("() => document.getElementById('roll').dataset.notes === "
                           f"'{len(MELODY)}'", timeout=20_000)


def generate(page, model, controls=None):
    page.select_option("#model", model)
    for name, value in (controls or {}).items():
        page.fill(f"#ctl-{name}", str(value))
    done = int(page.get_attribute("body", "data-generations") or 0)
    page.evaluate("""() => { window.progressSeen = false;
        new MutationObserver(() => { if (!document.getElementById('progress').hidden)
            window.progressSeen = true; }).observe(document.getElementById('progress'),
            {attributes: true}); }""")
    page.click("#generate")
    page.wait_for_function(f"() => Number(document.body.dataset.generations) > {done}",
                           timeout=120_000)
    assert page.evaluate("() => window.progressSeen")  # the progress bar was shown
    assert page.is_hidden("#progress") and page.is_hidden("#cancel")


def choose_bars_2_to_3(page):
    """Drag along the bar ruler from bar 2 to bar 3 (4/4, the roll at its first beat)."""
    box = page.query_selector("#roll").bounding_box()
    ppb = int(page.input_value("#zoom"))  # pixels per beat
    page.mouse.move(box["x"] + 4.5 * ppb, box["y"] + 8)  # bar 2 on the ruler ...
    page.mouse.down()
    page.mouse.move(box["x"] + 10.5 * ppb, box["y"] + 8)  # ... to bar 3
    page.mouse.up()


def test_empty_page_loads_models_and_examples(page):
    models = page.eval_on_selector_all("#model option", "os => os.map(o => o.value)")
    assert {"gan", "arcnn", "transformer"} <= set(models)
    assert page.eval_on_selector_all("#example option", "os => os.length") >= 5
    assert page.is_disabled("#generate") and page.is_disabled("#play")
    # controls come from GET /models: the transformer's own appear when it is chosen
    page.select_option("#model", "transformer")
    assert page.is_visible("#ctl-top_k") and page.is_visible("#ctl-top_p")
    assert not page.is_visible("#ctl-iterations")
    assert page.inner_text("#family").startswith("transformer: music transformer")
    page.select_option("#model", "gan")
    assert page.inner_text("#family").startswith("gan: alto, tenor, bass")
    page.select_option("#ctl-style", "pop")  # the family table: the band and its drums
    family = page.inner_text("#family")
    assert family.startswith("gan_pop: a band") and "gan_drums: drums" in family
    page.select_option("#ctl-style", "")
    shot(page, "empty")
    assert page.console_errors == []


def test_a_style_from_the_family_table_composes_in_the_studio(page, tune_mid):
    """The string quartet is offered with no studio code of its own: its style, its rules
    control and its family come from GET /models, and it composes three named parts."""
    if _weights("gan"):
        pytest.skip("no shipped gan weights")
    load_midi(page, tune_mid)
    page.select_option("#model", "gan")
    page.select_option("#ctl-style", "strings")
    assert page.inner_text("#family").startswith("gan_strings: a string quartet")
    assert page.is_visible("#ctl-rules") and not page.is_visible("#ctl-drums")
    generate(page, "gan")
    assert page.is_hidden("#error"), page.text_content("#error-text")
    assert roll(page)["tracks"] == "4"
    names = page.text_content("#tracks")
    assert all(part in names for part in ("Violin II", "Viola", "Cello"))
    shot(page, "strings")


@pytest.mark.parametrize("model, controls", [
    ("gan", {}), ("arcnn", {"iterations": 8}), ("transformer", {}),
])
def test_load_midi_generate_play_download(page, tune_mid, model, controls):
    missing = _weights(model)
    if missing:
        pytest.skip(f"no shipped weights for {missing[0]}")
    load_midi(page, tune_mid)
    assert roll(page)["tracks"] == "1"
    assert not page.is_disabled("#generate")
    if model == "gan":
        shot(page, "melody")
    generate(page, model, controls)
    assert page.is_hidden("#error"), page.text_content("#error-text")
    r = roll(page)
    assert int(r["tracks"]) >= 3 and int(r["notes"]) > len(MELODY)
    assert page.eval_on_selector_all("#tracks tbody tr", "rs => rs.length") == int(r["tracks"])
    assert "melody" in page.text_content("#tracks")
    # play: audio from POST /render, the cursor moves over the roll
    page.click("#play")
    page.wait_for_function("() => Number(document.getElementById('roll').dataset.cursor) > 0.5",
                           timeout=30_000)
    assert page.get_attribute("body", "data-state") == "playing"
    if model == "gan":
        shot(page, "result")
    page.click("#stop")
    assert roll(page)["cursor"] == ""
    # downloads are offered; the MIDI one is a real MIDI file of the result
    for kind in ("midi", "musicxml", "json", "wav"):
        assert page.is_enabled(f"#dl-{kind}")
    with page.expect_download() as info:
        page.click("#dl-midi")
    data = Path(info.value.path()).read_bytes()
    assert data[:4] == b"MThd" and info.value.suggested_filename.endswith(".mid")
    if model == "gan":
        import json

        with page.expect_download() as info:
            page.click("#dl-json")
        song = json.loads(Path(info.value.path()).read_text())
        assert len(song["tracks"]) == int(r["tracks"])
        with page.expect_download() as info:
            page.click("#dl-wav")
        assert Path(info.value.path()).read_bytes()[:4] == b"RIFF"
    assert page.console_errors == []


def test_generate_again_infill_bars_chosen_on_the_roll(page, tune_mid):
    missing = _weights("arcnn")
    if missing:
        pytest.skip(f"no shipped weights for {missing[0]}")
    load_midi(page, tune_mid)
    generate(page, "arcnn", {"iterations": 4})
    before = page.eval_on_selector("#roll", "e => e.dataset.notes")
    page.select_option("#task", "infill")
    choose_bars_2_to_3(page)
    assert "Bars 2 to 3" in page.text_content("#status")
    assert "2:3" in page.get_attribute("#ctl-bars", "placeholder")
    generate(page, "arcnn", {"iterations": 4})
    assert page.is_hidden("#error"), page.text_content("#error-text")
    assert int(roll(page)["tracks"]) >= 4 and roll(page)["notes"] != "0"
    assert before  # the first result was shown
    assert page.console_errors == []


def test_melody_continue_and_infill_in_the_studio(page, tune_mid):
    """The melody transformer from the family table: a melody style offers its own tasks,
    Infill rewrites bars chosen on the ruler, Continue adds bars to the one melody track."""
    if _weights("melody"):
        pytest.skip("no shipped melody weights")
    load_midi(page, tune_mid)
    page.select_option("#model", "transformer")
    assert page.eval_on_selector_all("#task option", "os => os.map(o => o.value)") == [
        "accompany", "continue"]  # the chorale transformer
    page.select_option("#ctl-style", "folk")
    assert page.eval_on_selector_all("#task option", "os => os.map(o => o.value)") == [
        "continue", "infill"]
    assert page.inner_text("#family").startswith("melody: melody transformer")
    page.select_option("#task", "infill")
    choose_bars_2_to_3(page)
    assert "2:3" in page.get_attribute("#ctl-bars", "placeholder")
    generate(page, "transformer")
    assert page.is_hidden("#error"), page.text_content("#error-text")
    r = roll(page)
    assert r["tracks"] == "1" and int(r["notes"]) >= 6
    shot(page, "melody-infill")
    page.select_option("#task", "continue")
    before = int(r["notes"])
    generate(page, "transformer", {"bars": 2})
    assert page.is_hidden("#error"), page.text_content("#error-text")
    r = roll(page)
    assert r["tracks"] == "1" and int(r["notes"]) > before
    assert page.console_errors == []


def test_mute_solo_and_edit(page, tune_mid):
    load_midi(page, tune_mid)
    box = page.query_selector("#roll").bounding_box()
    page.mouse.click(box["x"] + 400, box["y"] + 60)  # empty cell: add a note
    assert roll(page)["notes"] == str(len(MELODY) + 1)
    added = page.evaluate("() => studio.state.song.tracks[0].notes.at(-1)")
    x, y = page.evaluate("""() => { const n = studio.state.song.tracks[0].notes.at(-1);
        return [studio.xOf(n.start) + 2, studio.yOf(n.pitch) + studio.ROW / 2]; }""")
    ppb, row = int(page.input_value("#zoom")), 8
    page.mouse.move(box["x"] + x, box["y"] + y)  # drag it one beat right, two rows up
    page.mouse.down()
    page.mouse.move(box["x"] + x + ppb, box["y"] + y - 2 * row, steps=4)
    page.mouse.up()
    assert roll(page)["notes"] == str(len(MELODY) + 1)  # moved, not a second note
    moved = page.evaluate("() => studio.state.song.tracks[0].notes.at(-1)")
    assert moved["pitch"] == added["pitch"] + 2
    assert abs(moved["start"] - (added["start"] + 1)) < 1e-6
    page.keyboard.press("Delete")  # the moved note is still selected
    assert roll(page)["notes"] == str(len(MELODY))
    page.click("#mute-0")
    assert "on" in page.get_attribute("#mute-0", "class")
    page.click("#play")  # the only track is muted: nothing to play, said on the page
    page.wait_for_selector("#error", state="visible")
    assert "muted" in page.text_content("#error-text")
    page.click("#mute-0")
    page.click("#undo")
    assert page.console_errors == []


def test_record_from_the_computer_keyboard_and_quantize(page):
    page.uncheck("#countin")
    page.fill("#tempo", "120")
    page.click("#record")
    page.wait_for_selector("#record-stop:enabled")
    page.click("header h1")  # focus out of the tempo field
    for key in ("a", "d", "g"):  # C, E, G
        page.keyboard.down(key)
        page.wait_for_timeout(200)
        page.keyboard.up(key)
        page.wait_for_timeout(100)
    page.click("#record-stop")
    assert roll(page)["notes"] == "3"
    notes = page.evaluate("() => studio.state.song.tracks[0].notes")
    assert [n["pitch"] for n in notes] == [60, 64, 67]
    assert all(n["duration"] > 0.1 for n in notes)
    page.select_option("#grid", "0.5")
    page.click("#quantize")
    notes = page.evaluate("() => studio.state.song.tracks[0].notes")
    assert all(float(n["start"] * 2).is_integer() and n["duration"] >= 0.5 for n in notes)
    assert not page.is_disabled("#generate")
    assert page.console_errors == []


def test_generate_can_be_cancelled(page):
    held = []
    page.route("**/compose", lambda route: held.append(route))  # never answered: hangs
    page.select_option("#example", "pop-hook")
    page.click("#generate")
    page.wait_for_selector("#cancel", state="visible", timeout=5_000)
    assert page.is_visible("#progress")
    page.click("#cancel")
    page.wait_for_selector("#cancel", state="hidden", timeout=5_000)
    assert "cancelled" in page.text_content("#status")
    assert page.is_hidden("#error") and page.is_enabled("#generate")
    assert roll(page)["tracks"] == "1" and held
    assert page.console_errors == []


def test_chords_show_above_the_roll(page, tmp_path):
    import json

    song = {"tempo": 100, "time_signature": [4, 4],
            "chords": [[0, 4, "C:maj"], [4, 8, "A:min7"]],
            "tracks": [{"name": "Melody", "notes": [[72, 0, 2, 90], [76, 2, 2, 90],
                                                     [69, 4, 4, 90]]},
                       {"name": "Drums", "is_drum": True,
                        "notes": [[36, b, 0.1, 100] for b in range(8)]}]}
    path = tmp_path / "chords.json"
    path.write_text(json.dumps(song))
    page.set_input_files("#upload", str(path))
    page.wait_for_function("() => document.getElementById('roll').dataset.chords === '2'",
                           timeout=10_000)
    assert "(drums)" in page.text_content("#tracks")
    assert page.console_errors == []


def test_the_ruler_counts_bars_through_changes_of_meter(page, tmp_path):
    """4/4, 3/4 from beat 16, 4/4 again from beat 22: the 3/4 bars are 5 and 6 (beats 16
    and 19), so dragging the ruler over beats 19.5 to 23 chooses bars 6 to 7, and that is
    what infill is sent."""
    import json

    song = {"tempo": 100, "time_signature": [4, 4],
            "time_signatures": [[0, 4, 4], [16, 3, 4], [22, 4, 4]],
            "tracks": [{"name": "Melody", "notes": [[67 + (b % 5), b, 1, 90]
                                                     for b in range(27)]}]}
    path = tmp_path / "meters.json"
    path.write_text(json.dumps(song))
    page.set_input_files("#upload", str(path))
    page.wait_for_function("() => document.getElementById('roll').dataset.notes === '27'",
                           timeout=10_000)
    # 27 beats: 4 bars of 4/4, 2 of 3/4, then bar 8 begun (in 4/4 alone it would be 7)
    assert "8 bars" in page.text_content("#status")
    page.select_option("#model", "arcnn")
    page.select_option("#task", "infill")
    box = page.query_selector("#roll").bounding_box()
    ppb = int(page.input_value("#zoom"))
    page.mouse.move(box["x"] + 19.5 * ppb, box["y"] + 8)
    page.mouse.down()
    page.mouse.move(box["x"] + 23 * ppb, box["y"] + 8)
    page.mouse.up()
    assert "Bars 6 to 7" in page.text_content("#status")
    assert "6:7" in page.get_attribute("#ctl-bars", "placeholder")
    sent = []
    page.route("**/compose", lambda route: (sent.append(route.request.post_data_json),
                                            route.fulfill(status=400, json={"error": "x"})))
    page.click("#generate")
    page.wait_for_selector("#error", state="visible", timeout=10_000)
    assert sent and sent[0]["bars"] == "6:7" and sent[0]["task"] == "infill"
    assert sent[0]["time_signatures"] == song["time_signatures"]
    shot(page, "meters")
    others = [m for m in page.console_errors if "status of 400" not in m]
    assert others == []


def test_errors_are_shown(page, tmp_path):
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd this is not a MIDI file")
    page.set_input_files("#upload", str(bad))
    page.wait_for_selector("#error", state="visible", timeout=10_000)
    assert "broken.mid" in page.text_content("#error-text")
    page.click("#error-close")
    # a control out of range: the server's message, shown on the page
    page.select_option("#example", "ode-to-joy")
    page.select_option("#model", "gan")
    page.fill("#ctl-temperature", "99")
    page.click("#generate")
    page.wait_for_selector("#error", state="visible", timeout=20_000)
    assert "temperature" in page.text_content("#error-text")
    shot(page, "error")
    # the browser logs the 400 replies themselves; nothing else may be in the console
    others = [m for m in page.console_errors if "status of 400" not in m]
    assert others == []


def _notes_by_track(page):
    return page.evaluate("() => window.studio.state.song.tracks.map(t => t.notes.map(n => "
                         "[n.pitch, n.start, n.duration, n.velocity]))")


def test_regenerate_bars_chosen_on_the_roll_and_reroll_one_track(page, tmp_path):
    """Issue 27: a band result opened in the studio; bars 2 to 3 chosen on the ruler are
    regenerated (every note outside them stays), then the bass's re-roll button redoes the
    bass alone (every other track stays)."""
    missing = _weights("gan_pop", "gan_drums")
    if missing:
        pytest.skip(f"no shipped weights for {missing[0]}")
    import deepcompose
    from deepcompose.melodies import path as example_path

    path = tmp_path / "band.json"
    deepcompose.compose(example_path("pop-hook"), model="gan", style="pop", seed=1).write(path)
    page.set_input_files("#upload", str(path))
    page.wait_for_function("() => document.getElementById('roll').dataset.tracks === '5'",
                           timeout=20_000)
    page.select_option("#model", "gan")
    page.select_option("#ctl-style", "pop")
    page.select_option("#task", "infill")
    before = _notes_by_track(page)
    box = page.query_selector("#roll").bounding_box()
    ppb = int(page.input_value("#zoom"))
    page.mouse.move(box["x"] + 4.5 * ppb, box["y"] + 8)  # bar 2 on the ruler ...
    page.mouse.down()
    page.mouse.move(box["x"] + 10.5 * ppb, box["y"] + 8)  # ... to bar 3
    page.mouse.up()
    assert "Bars 2 to 3" in page.text_content("#status")
    shot(page, "infill-bars-chosen")
    generate(page, "gan")
    assert page.is_hidden("#error"), page.text_content("#error-text")
    after = _notes_by_track(page)
    assert len(after) == len(before) and after[0] == before[0]  # the melody untouched
    changed = 0
    for old, new in zip(before, after, strict=True):
        assert [n for n in old if not 4 <= n[1] < 12] == [n for n in new if not 4 <= n[1] < 12]
        changed += [n for n in old if 4 <= n[1] < 12] != [n for n in new if 4 <= n[1] < 12]
    assert changed >= 2
    page.evaluate("() => window.scrollTo(0, 0)")
    shot(page, "infill-bars-regenerated")
    bass = page.evaluate("() => window.studio.state.song.tracks.findIndex(t => t.name === "
                         "'Bass')")
    assert page.is_visible(f"#reroll-{bass}") and not page.is_visible("#reroll-0")
    done = int(page.get_attribute("body", "data-generations") or 0)
    page.click(f"#reroll-{bass}")
    page.wait_for_function(f"() => Number(document.body.dataset.generations) > {done}",
                           timeout=120_000)
    assert page.is_hidden("#error"), page.text_content("#error-text")
    rerolled = _notes_by_track(page)
    for i, (old, new) in enumerate(zip(after, rerolled, strict=True)):
        assert (old == new) == (i != bass)
    page.evaluate("() => window.scrollTo(0, 0)")
    shot(page, "reroll-bass")
    assert page.console_errors == []
