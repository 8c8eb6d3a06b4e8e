/* deepcompose studio: one page, no dependencies, talks only to the local server.
 *
 * This module wires the page: loading a melody (examples, files), undo, the tracks table,
 * generating, downloads, and the start. The parts: song.mjs (song logic, no DOM), api.mjs
 * (the server), state.mjs (shared state, messages), controls.mjs (the Generate form),
 * roll.mjs (the piano roll), audio.mjs (playback, beeps), input.mjs (keyboards, recording).
 */

import {compose, convertFile, exportFile, fetchExamples, renderWav} from "./api.mjs";
import {play, stopPlayback} from "./audio.mjs";
import {controlValues, currentModel, currentStyle, fillTasks, loadModels, renderControls,
  updateGenerate} from "./controls.mjs";
import {editRole} from "./families.mjs";
import {setupInput} from "./input.mjs";
import {PALETTE, ROW, draw, grid, setupRoll, xOf, yOf} from "./roll.mjs";
import {$, clearError, showError, state, status} from "./state.mjs";
import {audible, barCount, barsText, emptySong, guessMelody, meterMap, normalize,
  noteCount, quantizeNotes, request} from "./song.mjs";

// ------------------------------------------------------------------ the song and undo

function setSong(song, name, keepMelody) {
  pushHistory();
  state.song = normalize(song);
  if (!keepMelody) state.melody = guessMelody(state.song);
  state.melody = Math.min(state.melody, Math.max(0, state.song.tracks.length - 1));
  state.muted.clear(); state.solo.clear();
  state.selected = null; state.bars = null;
  if (name) state.name = name;
  $("tempo").value = Math.round(state.song.tempo);
  songChanged();
}

function pushHistory() {
  state.history.push(JSON.stringify({song: state.song, melody: state.melody}));
  if (state.history.length > 50) state.history.shift();
  $("undo").disabled = false;
}

function undo() {
  const last = state.history.pop();
  if (!last) return;
  const h = JSON.parse(last);
  state.song = h.song; state.melody = h.melody; state.selected = null;
  $("undo").disabled = !state.history.length;
  songChanged();
}

function songChanged() {
  stopPlayback();
  const s = state.song, n = noteCount(s);
  $("play").disabled = n === 0;
  for (const id of ["dl-midi", "dl-musicxml", "dl-json", "dl-wav"]) $(id).disabled = n === 0;
  updateGenerate();
  drawTracks();
  draw();
  const [, num, den] = meterMap(s)[0];
  status(n ? `${s.title || state.name}: ${n} notes, ${s.tracks.length} track` +
    `${s.tracks.length === 1 ? "" : "s"}, ${barCount(s)} bars, ${Math.round(s.tempo)} bpm, ` +
    `${num}/${den}${s.pickup ? `, pickup ${s.pickup} beat` : ""}` : "No melody yet: " +
    "pick an example, open a file or play one in.");
}

function quantize() {
  const t = state.song.tracks[state.melody];
  if (!t) return;
  pushHistory();
  quantizeNotes(t.notes, grid());
  songChanged();
}

// ------------------------------------------------------------------ tracks table

function drawTracks() {
  const body = $("tracks").querySelector("tbody");
  body.innerHTML = "";
  state.song.tracks.forEach((t, i) => {
    const tr = document.createElement("tr");
    const sw = document.createElement("td");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = PALETTE[i % PALETTE.length];  // CSSOM: allowed by the CSP
    sw.appendChild(swatch);
    const name = document.createElement("td");
    name.textContent = t.name || `Track ${i + 1}`;
    if (t.is_drum) name.textContent += " (drums)";
    if (i === state.melody) {
      const tag = document.createElement("span");
      tag.className = "melody-tag"; tag.textContent = "melody";
      name.appendChild(tag);
    } else {
      name.title = "Click to make this the melody track";
      name.style.cursor = "pointer";
      name.addEventListener("click", () => { state.melody = i; drawTracks(); draw(); });
    }
    const count = document.createElement("td");
    count.textContent = String(t.notes.length);
    const mute = toggle("M", state.muted, i, `mute-${i}`);
    const solo = toggle("S", state.solo, i, `solo-${i}`);
    tr.append(sw, name, count, mute, solo, reroll(t, i));
    body.appendChild(tr);
  });
}

/** A re-roll button for a track that is a part of the chosen model and style: it redoes
 *  that part (in the bars chosen on the ruler, if any), keeping everything else. */
function reroll(t, i) {
  const td = document.createElement("td"), m = currentModel();
  const role = m && i !== state.melody ? editRole(state.families, m.name, currentStyle(),
    t.name) : null;
  if (!role) return td;
  const b = document.createElement("button");
  b.type = "button"; b.textContent = "↻"; b.id = `reroll-${i}`;
  b.title = state.bars ? `Redo bars ${barsText(state.bars)} of the ${t.name}` :
    `Redo the ${t.name}, keeping everything else`;
  b.disabled = !!state.abort;
  b.addEventListener("click", () => {
    const values = controlValues();
    delete values.bars; delete values.parts;
    const edit = state.bars ? {task: "infill", bars: barsText(state.bars)} :
      {task: "accompany"};
    generate(Object.assign(values, edit, {parts: [role]}));
  });
  td.appendChild(b);
  return td;
}

function toggle(label, set, i, id) {
  const td = document.createElement("td"), b = document.createElement("button");
  b.type = "button"; b.textContent = label; b.id = id;
  b.classList.toggle("on", set.has(i));
  b.addEventListener("click", () => {
    if (set.has(i)) set.delete(i); else set.add(i);
    stopPlayback();
    drawTracks(); draw();
  });
  td.appendChild(b);
  return td;
}

// ------------------------------------------------------------------ loading

async function loadExamples() {
  const rows = await fetchExamples();
  const sel = $("example");
  for (const r of rows) {
    const o = document.createElement("option");
    o.value = r.name;
    o.textContent = `${r.title} (${r.meter}, ${r.bars} bars)`;
    o.title = r.source;
    sel.appendChild(o);
  }
  sel.addEventListener("change", () => {
    const r = rows.find((x) => x.name === sel.value);
    if (r) { clearError(); setSong(r.song, r.name); }
  });
}

async function upload(file) {
  clearError();
  status(`Reading ${file.name}…`);
  try {
    setSong(await convertFile(file), file.name.replace(/\.[^.]+$/, ""));
  } catch (e) {
    showError(`Cannot open ${file.name}: ${e.message}`);
    songChanged();
  }
}

// ------------------------------------------------------------------ generate

/** Compose with the form's model, task and controls; ``edit`` (a re-roll) replaces the
 *  controls and task and keeps the tracks where they are. */
async function generate(edit) {
  clearError();
  const m = currentModel(), task = edit ? edit.task : $("task").value;
  if (!m) return;
  const body = Object.assign(request(state.song), {model: m.name, task: task,
    track: state.melody}, edit || controlValues());
  const ctl = new AbortController();
  state.abort = ctl;
  stopPlayback();
  drawTracks();  // no re-roll while one is running
  $("generate").disabled = true;
  $("cancel").hidden = false;
  $("progress").hidden = false;
  document.body.dataset.state = "generating";
  const t0 = performance.now();
  const tick = setInterval(() => {
    $("progress-text").textContent =
      `Composing with ${m.name} (${task})… ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  }, 100);
  try {
    const song = await compose(body, ctl.signal);
    const melody = !edit && (task === "accompany" || task === "continue") ? 0 : state.melody;
    const bars = task === "infill" ? state.bars : null;  // stay chosen: redo them again
    setSong(song, `${state.name}-${m.name}`, true);
    state.melody = Math.min(melody, state.song.tracks.length - 1);
    state.bars = bars;
    songChanged();
    status(`${$("status").textContent} (${m.name}, ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    if (e.name === "AbortError") status("Generation cancelled.");
    else showError(`Generate failed: ${e.message}`);
  } finally {
    clearInterval(tick);
    state.abort = null;
    document.body.dataset.generations = String(+(document.body.dataset.generations || 0) + 1);
    $("cancel").hidden = true;
    $("progress").hidden = true;
    document.body.dataset.state = "idle";
    updateGenerate();
    drawTracks();  // the re-roll buttons come back
  }
}

// ------------------------------------------------------------------ downloads

function save(blob, filename) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

async function download(kind) {
  clearError();
  const base = state.name.replace(/[^A-Za-z0-9_.-]+/g, "-") || "song";
  try {
    if (kind === "json") {
      save(new Blob([JSON.stringify(request(state.song), null, 1)],
        {type: "application/json"}), `${base}.json`);
    } else if (kind === "wav") {
      save(await renderWav(audible(state.song, state.muted, state.solo)), `${base}.wav`);
    } else {
      save(await exportFile(request(state.song), kind),
        `${base}.${kind === "midi" ? "mid" : "musicxml"}`);
    }
  } catch (e) {
    showError(`Download failed: ${e.message}`);
  }
}

// ------------------------------------------------------------------ start

function wire() {
  $("error-close").addEventListener("click", clearError);
  $("upload").addEventListener("change", (e) => {
    if (e.target.files[0]) upload(e.target.files[0]);
  });
  $("model").addEventListener("change", () => { fillTasks(); drawTracks(); });
  $("controls").addEventListener("change", drawTracks);  // a style's parts can be re-rolled
  $("task").addEventListener("change", renderControls);
  $("generate").addEventListener("click", () => generate());
  $("cancel").addEventListener("click", () => { if (state.abort) state.abort.abort(); });
  $("play").addEventListener("click", play);
  $("stop").addEventListener("click", stopPlayback);
  $("quantize").addEventListener("click", quantize);
  $("clear").addEventListener("click", () => {
    pushHistory();
    state.song = emptySong(+$("tempo").value || 100, $("meter").value.split("/").map(Number));
    state.bars = null;
    songChanged();
  });
  $("undo").addEventListener("click", undo);
  for (const kind of ["midi", "musicxml", "json", "wav"]) {
    $(`dl-${kind}`).addEventListener("click", () => download(kind));
  }
}

async function start() {
  document.body.dataset.state = "loading";
  wire();
  setupRoll({pushHistory, songChanged});
  setupInput({pushHistory, songChanged});
  songChanged();
  try {
    await Promise.all([loadModels(), loadExamples()]);
    document.body.dataset.state = "idle";
    songChanged();
  } catch (e) {
    document.body.dataset.state = "idle";
    showError(`Cannot load the studio: ${e.message}`);
  }
}

// For the browser's console and the page tests: the state and where a note is drawn.
window.studio = {state, xOf, yOf, ROW};

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
