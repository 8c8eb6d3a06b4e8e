/* deepcompose studio: one page, no dependencies, talks only to the local server.
 *
 * Server endpoints: GET /models (models, tasks, declared controls), GET /examples,
 * POST /convert?name=F (upload -> song), POST /compose, POST /render (song -> WAV),
 * POST /export?format=midi|musicxml. Songs are the JSON notes schema (beats).
 */
"use strict";

const $ = (id) => document.getElementById(id);
const PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#ec4899",
  "#14b8a6", "#84cc16", "#f97316", "#6366f1"];
const RULER = 18, CHORD_STRIP = 16, ROW = 8;
const KEYMAP = {a: 0, w: 1, s: 2, e: 3, d: 4, f: 5, t: 6, g: 7, y: 8, h: 9, u: 10, j: 11,
  k: 12, o: 13, l: 14, p: 15};

const state = {
  song: emptySong(100, [4, 4]),
  melody: 0,            // index of the melody track
  muted: new Set(), solo: new Set(),
  history: [],
  selected: null,       // {t, i}: track and note index
  bars: null,           // [a, b] bars chosen on the ruler (1-based; a pickup is bar 0)
  models: [],
  values: {},           // control values typed by the user, by name
  abort: null, audio: null, audioKey: null, audioUrl: null, playing: false, cursor: null,
  rec: null, octave: 0, ctx: null, held: new Map(), name: "melody",
};

function emptySong(tempo, sig) {
  return {tempo: tempo, time_signature: sig, pickup: 0, tracks: []};
}

// ------------------------------------------------------------------ song helpers

function normalize(song) {
  const s = JSON.parse(JSON.stringify(song));
  s.tracks = (s.tracks || (s.notes ? [{name: "Melody", program: 0, is_drum: false,
    notes: s.notes}] : [])).map((t) => ({
    name: t.name || "", program: t.program || 0, is_drum: !!t.is_drum,
    notes: (t.notes || []).map((n) => Array.isArray(n)
      ? {pitch: n[0], start: n[1], duration: n[2], velocity: n[3] || 90}
      : {pitch: n.pitch, start: n.start, duration: n.duration, velocity: n.velocity || 90}),
  }));
  delete s.notes;
  s.tempo = s.tempo || (s.tempos && s.tempos.length ? s.tempos[0][1] : 120);
  s.time_signature = s.time_signature || [4, 4];
  s.pickup = s.pickup || 0;
  return s;
}

function barBeats(song) {
  const [num, den] = song.time_signature;
  return num * 4 / den;
}

function lengthBeats(song) {
  let end = 0;
  for (const t of song.tracks) for (const n of t.notes) end = Math.max(end, n.start + n.duration);
  return end;
}

function noteCount(song) {
  return song.tracks.reduce((a, t) => a + t.notes.length, 0);
}

function barStart(song, k) {  // beat where bar k starts (1-based; bar 0 is a pickup)
  const p = song.pickup || 0;
  return k <= 0 ? 0 : p + (k - 1) * barBeats(song);
}

function barAt(song, beat) {
  const p = song.pickup || 0;
  if (p > 0 && beat < p) return 0;
  return Math.floor((beat - p) / barBeats(song)) + 1;
}

function barCount(song) {
  return Math.max(1, barAt(song, Math.max(0, lengthBeats(song) - 1e-6)));
}

function tempos(song) {
  return song.tempos && song.tempos.length ? song.tempos : [[0, song.tempo]];
}

function secondsToBeats(song, secs) {  // audio time -> song beat (the WAV starts at beat 0)
  const map = tempos(song).map(([b, bpm], i) => [i === 0 ? 0 : b, bpm]);
  let acc = 0, [prevB, prevBpm] = map[0];
  for (const [b, bpm] of map.slice(1)) {
    const seg = (b - prevB) * 60 / prevBpm;
    if (acc + seg >= secs) break;
    acc += seg; prevB = b; prevBpm = bpm;
  }
  return prevB + (secs - acc) * prevBpm / 60;
}

function request(song) {  // the song as the server takes it (chords go back only as a control)
  const out = {tempo: song.tempo, time_signature: song.time_signature, pickup: song.pickup || 0,
    tracks: song.tracks.map((t) => ({name: t.name, program: t.program, is_drum: t.is_drum,
      notes: t.notes.map((n) => ({pitch: n.pitch, start: +n.start.toFixed(4),
        duration: +n.duration.toFixed(4), velocity: n.velocity}))}))};
  if (song.tempos) out.tempos = song.tempos;
  if (song.time_signatures) out.time_signatures = song.time_signatures;
  if (song.key) out.key = song.key;
  return out;
}

function audible(song) {  // mute / solo applied
  const s = request(song);
  s.tracks = s.tracks.filter((t, i) => state.solo.size ? state.solo.has(i) : !state.muted.has(i));
  return s;
}

// ------------------------------------------------------------------ messages

function showError(text) {
  $("error-text").textContent = text;
  $("error").hidden = false;
}

function clearError() { $("error").hidden = true; }

function status(text) { $("status").textContent = text; }

async function api(path, options = {}) {
  let res;
  try {
    res = await fetch(path, options);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new Error("cannot reach the deepcompose server (is it still running?)");
  }
  if (!res.ok) {
    let text = `${res.status} ${res.statusText}`;
    try { text = (await res.json()).error || text; } catch (e) { /* not JSON */ }
    throw new Error(text);
  }
  return res;
}

function jsonPost(path, obj, signal) {
  return api(path, {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify(obj), signal: signal});
}

// ------------------------------------------------------------------ loading

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

function guessMelody(song) {
  const words = /melody|vocal|voice|lead|soprano|tune|sing/i;
  let best = 0, bestPitch = -1;
  song.tracks.forEach((t, i) => {
    if (t.is_drum || !t.notes.length) return;
    if (words.test(t.name) && bestPitch < 1000) { best = i; bestPitch = 1000; return; }
    const mean = t.notes.reduce((a, n) => a + n.pitch, 0) / t.notes.length;
    if (mean > bestPitch) { best = i; bestPitch = mean; }
  });
  return best;
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
  const [num, den] = s.time_signature;
  status(n ? `${s.title || state.name}: ${n} notes, ${s.tracks.length} track` +
    `${s.tracks.length === 1 ? "" : "s"}, ${barCount(s)} bars, ${Math.round(s.tempo)} bpm, ` +
    `${num}/${den}${s.pickup ? `, pickup ${s.pickup} beat` : ""}` : "No melody yet: " +
    "pick an example, open a file or play one in.");
}

async function loadExamples() {
  const res = await api("/examples");
  const rows = (await res.json()).examples;
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
    const data = await file.arrayBuffer();
    const res = await api(`/convert?name=${encodeURIComponent(file.name)}`,
      {method: "POST", headers: {"Content-Type": "application/octet-stream"}, body: data});
    setSong(await res.json(), file.name.replace(/\.[^.]+$/, ""));
  } catch (e) {
    showError(`Cannot open ${file.name}: ${e.message}`);
    songChanged();
  }
}

// ------------------------------------------------------------------ models and controls

async function loadModels() {
  const res = await api("/models");
  state.models = (await res.json()).models;
  const sel = $("model");
  sel.innerHTML = "";
  for (const m of state.models) {
    const o = document.createElement("option");
    o.value = m.name;
    o.textContent = m.weights ? m.name : `${m.name} (no weights)`;
    sel.appendChild(o);
  }
  if (state.models.some((m) => m.name === "gan")) sel.value = "gan";  // the quickest
  fillTasks();
}

function currentModel() { return state.models.find((m) => m.name === $("model").value); }

function fillTasks() {
  const m = currentModel(), sel = $("task"), old = sel.value;
  sel.innerHTML = "";
  for (const t of (m ? m.tasks : [])) {
    const o = document.createElement("option");
    o.value = t; o.textContent = t;
    sel.appendChild(o);
  }
  if (m && m.tasks.includes(old)) sel.value = old;
  renderControls();
}

function controlApplies(c, task, style) {
  if (c.tasks && !c.tasks.includes(task)) return false;
  if (c.styles && !c.styles.includes(style)) return false;
  return true;
}

function renderControls() {
  const box = $("controls"), m = currentModel(), task = $("task").value;
  box.innerHTML = "";
  if (!m) return;
  const controls = m.controls || [];
  const styleCtl = controls.find((c) => c.name === "style");
  const style = state.values.style || (styleCtl ? styleCtl.default : null);
  for (const c of controls) {
    if (!controlApplies(c, task, style)) continue;
    const wrap = document.createElement("div");
    wrap.className = "control";
    const label = document.createElement("label");
    const id = `ctl-${c.name}`;
    label.htmlFor = id;
    label.textContent = c.name.replace(/_/g, " ") + " ";
    let input;
    if (c.type === "bool") {
      input = document.createElement("input");
      input.type = "checkbox";
      input.checked = c.name in state.values ? state.values[c.name] : !!c.default;
      input.addEventListener("change", () => { state.values[c.name] = input.checked; });
      label.prepend(input);
      label.textContent = "";
      label.append(input, " " + c.name.replace(/_/g, " "));
    } else if (c.type === "choice") {
      input = document.createElement("select");
      const def = document.createElement("option");
      def.value = "";
      def.textContent = c.default === null || c.default === undefined ? "(model default)"
        : `${c.default} (default)`;
      input.appendChild(def);
      for (const ch of c.choices || []) {
        if (ch === c.default) continue;
        const o = document.createElement("option");
        o.value = ch; o.textContent = ch;
        input.appendChild(o);
      }
      input.value = state.values[c.name] || "";
      input.addEventListener("change", () => {
        state.values[c.name] = input.value;
        if (c.name === "style") renderControls();
      });
    } else {
      input = document.createElement("input");
      input.type = c.type === "int" || c.type === "float" ? "text" : "text";
      input.inputMode = c.type === "int" ? "numeric" : c.type === "float" ? "decimal" : "text";
      input.placeholder = c.default === null || c.default === undefined ? "default"
        : String(c.default);
      if (c.name === "bars" && task === "infill" && state.bars) {
        input.placeholder = `${state.bars[0]}:${state.bars[1]} (chosen on the roll)`;
      }
      input.value = state.values[c.name] || "";
      input.addEventListener("input", () => { state.values[c.name] = input.value; });
    }
    input.id = id;
    input.dataset.control = c.name;
    input.dataset.type = c.type;
    if (c.type !== "bool") wrap.append(label, input); else wrap.append(label);
    const help = document.createElement("span");
    help.className = "help";
    help.textContent = `${c.help} (${c.range})`;
    wrap.appendChild(help);
    box.appendChild(wrap);
  }
  updateGenerate();
}

function controlValues() {  // only what the user set; the server checks every value
  const out = {};
  for (const el of document.querySelectorAll("#controls [data-control]")) {
    const name = el.dataset.control, type = el.dataset.type;
    const m = currentModel(), c = m.controls.find((x) => x.name === name);
    if (type === "bool") {
      if (el.checked !== !!c.default) out[name] = el.checked;
      continue;
    }
    const raw = el.value.trim();
    if (raw === "") {
      if (name === "bars" && $("task").value === "infill" && state.bars) {
        out.bars = `${state.bars[0]}:${state.bars[1]}`;
      }
      continue;
    }
    if (type === "int" || type === "float") {
      const v = Number(raw);
      out[name] = raw !== "" && Number.isFinite(v) ? v : raw;  // a bad value: the server says why
    } else if (type === "bars") {
      out[name] = /^\d+$/.test(raw) ? Number(raw) : raw;
    } else {
      out[name] = raw;
    }
  }
  return out;
}

function updateGenerate() {
  const m = currentModel();
  $("generate").disabled = !m || !noteCount(state.song) || !!state.abort;
}

// ------------------------------------------------------------------ generate

async function generate() {
  clearError();
  const m = currentModel(), task = $("task").value;
  if (!m) return;
  const body = Object.assign(request(state.song), {model: m.name, task: task,
    track: state.melody}, controlValues());
  const ctl = new AbortController();
  state.abort = ctl;
  stopPlayback();
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
    const res = await jsonPost("/compose", body, ctl.signal);
    const song = await res.json();
    const melody = task === "accompany" || task === "continue" ? 0 : state.melody;
    setSong(song, `${state.name}-${m.name}`, true);
    state.melody = Math.min(melody, state.song.tracks.length - 1);
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
  }
}

// ------------------------------------------------------------------ playback

async function play() {
  clearError();
  const song = audible(state.song);
  if (!song.tracks.length) { showError("Every track is muted."); return; }
  const key = JSON.stringify(song);
  $("play").disabled = true;
  try {
    if (state.audioKey !== key) {
      status("Rendering audio…");
      const res = await jsonPost("/render", song);
      const blob = await res.blob();
      if (state.audioUrl) URL.revokeObjectURL(state.audioUrl);
      state.audioUrl = URL.createObjectURL(blob);
      state.audioKey = key;
      songChangedStatusOnly();
    }
    const audio = new Audio(state.audioUrl);
    state.audio = audio;
    audio.addEventListener("ended", stopPlayback);
    await audio.play();
    state.playing = true;
    document.body.dataset.state = "playing";
    $("stop").disabled = false;
    requestAnimationFrame(frame);
  } catch (e) {
    showError(`Cannot play: ${e.message}`);
    stopPlayback();
  } finally {
    $("play").disabled = !noteCount(state.song) || state.playing;
  }
}

function songChangedStatusOnly() {
  const text = $("status").textContent;
  if (text.startsWith("Rendering")) status("Playing.");
}

function frame() {
  if (!state.playing || !state.audio) return;
  const t = state.audio.currentTime;
  state.cursor = secondsToBeats(state.song, t);
  $("time").textContent = `${t.toFixed(1)} s`;
  draw();
  requestAnimationFrame(frame);
}

function stopPlayback() {
  if (state.audio) { state.audio.pause(); state.audio = null; }
  state.playing = false;
  state.cursor = null;
  if (document.body.dataset.state === "playing") document.body.dataset.state = "idle";
  $("stop").disabled = true;
  $("play").disabled = !noteCount(state.song);
  draw();
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
      const res = await jsonPost("/render", audible(state.song));
      save(await res.blob(), `${base}.wav`);
    } else {
      const res = await jsonPost(`/export?format=${kind}`, request(state.song));
      save(await res.blob(), `${base}.${kind === "midi" ? "mid" : "musicxml"}`);
    }
  } catch (e) {
    showError(`Download failed: ${e.message}`);
  }
}

// ------------------------------------------------------------------ piano roll

const view = {lo: 48, hi: 84, ppb: 24, chords: false, frozen: null};

function layout() {
  const s = state.song;
  let lo = 127, hi = 0;
  for (const t of s.tracks) for (const n of t.notes) { lo = Math.min(lo, n.pitch); hi = Math.max(hi, n.pitch); }
  if (lo > hi) { lo = 55; hi = 79; }
  lo = Math.max(0, lo - 2); hi = Math.min(127, hi + 2);
  while (hi - lo < 24) { if (lo > 0) lo--; if (hi < 127) hi++; }
  if (!view.frozen) { view.lo = lo; view.hi = hi; }  // rows stay put while dragging
  view.ppb = +$("zoom").value;
  view.chords = !!(s.chords && s.chords.length);
  const canvas = $("roll");
  const beats = Math.max(lengthBeats(s), barBeats(s) * 4) + barBeats(s);
  const width = Math.max($("roll-wrap").clientWidth - 2, Math.ceil(beats * view.ppb));
  const height = rollTop() + (hi - lo + 1) * ROW;
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
}

function rollTop() { return RULER + (view.chords ? CHORD_STRIP : 0); }
function xOf(beat) { return beat * view.ppb; }
function yOf(pitch) { return rollTop() + (view.hi - pitch) * ROW; }
function beatOf(x) { return x / view.ppb; }
function pitchOf(y) { return view.hi - Math.floor((y - rollTop()) / ROW); }

function draw() {
  layout();
  const s = state.song, canvas = $("roll"), g = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  g.clearRect(0, 0, W, H);
  for (let p = view.lo; p <= view.hi; p++) {  // black-key rows
    if ([1, 3, 6, 8, 10].includes(p % 12)) { g.fillStyle = "#eef0f3"; g.fillRect(0, yOf(p), W, ROW); }
    if (p % 12 === 0) {
      g.fillStyle = "#9ca3af"; g.font = "9px sans-serif";
      g.fillText(`C${p / 12 - 1}`, 2, yOf(p) + ROW - 1);
    }
  }
  const bar = barBeats(s);
  if (state.bars) {  // bars chosen for infill
    const x0 = xOf(barStart(s, state.bars[0])), x1 = xOf(barStart(s, state.bars[1] + 1));
    g.fillStyle = "rgba(250, 204, 21, 0.18)"; g.fillRect(x0, 0, x1 - x0, H);
    g.fillStyle = "#facc15"; g.fillRect(x0, 0, x1 - x0, RULER);
  }
  const end = beatOf(W);
  for (let b = 0; b <= end; b += 1) {  // beat lines
    g.fillStyle = "#e5e7eb"; g.fillRect(Math.round(xOf(b)), rollTop(), 1, H - rollTop());
  }
  g.font = "11px sans-serif";
  for (let k = s.pickup ? 0 : 1; barStart(s, k) <= end; k++) {  // bar lines and numbers
    const x = Math.round(xOf(barStart(s, k)));
    g.fillStyle = "#6b7280"; g.fillRect(x, 0, 1, H);
    g.fillStyle = "#374151"; g.fillText(String(k), x + 3, 13);
    if (k === 0 && s.pickup === 0) break;
  }
  g.fillStyle = "#d1d5db"; g.fillRect(0, RULER - 1, W, 1);
  if (view.chords) {
    g.font = "bold 11px sans-serif";
    for (const [a, b, label] of s.chords) {
      g.fillStyle = "#f3f4f6"; g.fillRect(xOf(a) + 1, RULER, xOf(b) - xOf(a) - 2, CHORD_STRIP - 1);
      g.fillStyle = "#7c2d12"; g.fillText(label, xOf(a) + 3, RULER + 12);
    }
  }
  let drawn = 0;
  s.tracks.forEach((t, ti) => {
    const silent = state.solo.size ? !state.solo.has(ti) : state.muted.has(ti);
    g.globalAlpha = silent ? 0.2 : 0.9;
    g.fillStyle = PALETTE[ti % PALETTE.length];
    for (const n of t.notes) {
      if (n.pitch < view.lo || n.pitch > view.hi) continue;
      const x = xOf(n.start), w = Math.max(2, xOf(n.duration) - 1);
      g.fillRect(x, yOf(n.pitch) + 1, w, ROW - 2);
      if (ti === state.melody) {
        g.globalAlpha = 1; g.strokeStyle = "#111827"; g.lineWidth = 1.5;
        g.strokeRect(x, yOf(n.pitch) + 0.5, w, ROW - 1);
        g.globalAlpha = silent ? 0.2 : 0.9;
      }
      drawn++;
    }
  });
  g.globalAlpha = 1;
  if (state.selected) {
    const n = (s.tracks[state.selected.t] || {notes: []}).notes[state.selected.i];
    if (n) {
      g.strokeStyle = "#dc2626"; g.lineWidth = 2;
      g.strokeRect(xOf(n.start) - 1, yOf(n.pitch), Math.max(3, xOf(n.duration) + 1), ROW);
    }
  }
  if (state.cursor !== null) {
    g.fillStyle = "#dc2626";
    g.fillRect(Math.round(xOf(Math.max(0, state.cursor))), 0, 2, H);
  }
  canvas.dataset.notes = String(drawn);
  canvas.dataset.tracks = String(s.tracks.length);
  canvas.dataset.cursor = state.cursor === null ? "" : state.cursor.toFixed(3);
  canvas.dataset.chords = String(view.chords ? s.chords.length : 0);
}

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
    tr.append(sw, name, count, mute, solo);
    body.appendChild(tr);
  });
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

function hit(x, y) {
  const s = state.song;
  for (let t = s.tracks.length - 1; t >= 0; t--) {
    const notes = s.tracks[t].notes;
    for (let i = notes.length - 1; i >= 0; i--) {
      const n = notes[i];
      if (y >= yOf(n.pitch) && y < yOf(n.pitch) + ROW && x >= xOf(n.start) &&
          x <= xOf(n.start) + Math.max(3, xOf(n.duration))) return {t, i};
    }
  }
  return null;
}

function grid() { return +$("grid").value; }
function snap(beat) { const q = grid(); return Math.max(0, Math.round(beat / q) * q); }

function setupRoll() {
  const canvas = $("roll");
  let drag = null;
  const pos = (e) => {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  canvas.addEventListener("mousedown", (e) => {
    if (e.button !== 0) return;
    const [x, y] = pos(e), s = state.song;
    if (y < RULER) {  // choose bars
      const k = barAt(s, beatOf(x));
      drag = {bars: k};
      state.bars = [k, k];
      renderControls(); draw();
      return;
    }
    if (y < rollTop()) return;
    let h = hit(x, y);
    pushHistory();
    if (!h) {  // add a note to the melody track
      if (!s.tracks.length) {
        s.tracks.push({name: "Melody", program: 0, is_drum: false, notes: []});
        state.melody = 0;
      }
      const t = s.tracks[state.melody];
      t.notes.push({pitch: pitchOf(y), start: snap(beatOf(x) - grid() / 2 + 1e-9),
        duration: grid(), velocity: 90});
      h = {t: state.melody, i: t.notes.length - 1};
      songChanged();
    }
    state.selected = h;
    const n = s.tracks[h.t].notes[h.i];
    view.frozen = true;
    drag = {h, x0: x, y0: y, start: n.start, pitch: n.pitch, moved: false};
    draw();
  });
  window.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const [x, y] = pos(e);
    if (drag.bars !== undefined) {
      const k = barAt(state.song, Math.max(0, beatOf(x)));
      state.bars = [Math.min(drag.bars, k), Math.max(drag.bars, k)];
      draw();
      return;
    }
    const n = state.song.tracks[drag.h.t].notes[drag.h.i];
    n.start = snap(drag.start + beatOf(x - drag.x0));
    n.pitch = Math.max(view.lo, Math.min(view.hi, drag.pitch + Math.round((drag.y0 - y) / ROW)));
    drag.moved = true;
    draw();
  });
  window.addEventListener("mouseup", () => {
    if (drag && drag.bars !== undefined) {
      renderControls();
      if (state.bars) status(`Bars ${state.bars[0]} to ${state.bars[1]} chosen (for infill).`);
    }
    view.frozen = null;
    if (drag && drag.moved) songChanged(); else if (drag) draw();
    drag = null;
  });
  canvas.addEventListener("contextmenu", (e) => {
    e.preventDefault();
    const [x, y] = pos(e), h = hit(x, y);
    if (h) { pushHistory(); state.song.tracks[h.t].notes.splice(h.i, 1); state.selected = null; songChanged(); }
  });
  window.addEventListener("keydown", (e) => {
    if (isTyping(e)) return;
    if ((e.key === "Delete" || e.key === "Backspace") && state.selected) {
      pushHistory();
      state.song.tracks[state.selected.t].notes.splice(state.selected.i, 1);
      state.selected = null;
      songChanged();
      e.preventDefault();
    }
  });
  $("zoom").addEventListener("input", draw);
  window.addEventListener("resize", draw);
}

// ------------------------------------------------------------------ keyboard input and recording

function audioCtx() {
  if (!state.ctx) {
    const C = window.AudioContext || window.webkitAudioContext;
    if (C) state.ctx = new C();
  }
  return state.ctx;
}

function beep(freq, when, dur, gain) {
  const ctx = audioCtx();
  if (!ctx) return null;
  const o = ctx.createOscillator(), g = ctx.createGain();
  o.type = "triangle"; o.frequency.value = freq;
  g.gain.setValueAtTime(0, when);
  g.gain.linearRampToValueAtTime(gain, when + 0.005);
  g.gain.exponentialRampToValueAtTime(0.0001, when + dur);
  o.connect(g).connect(ctx.destination);
  o.start(when); o.stop(when + dur + 0.05);
  return o;
}

function noteOn(pitch, velocity = 90) {
  if (state.held.has(pitch)) return;
  const ctx = audioCtx();
  const now = ctx ? ctx.currentTime : performance.now() / 1000;
  beep(440 * Math.pow(2, (pitch - 69) / 12), now, 0.6, 0.15 * velocity / 127);
  state.held.set(pitch, {t: now, velocity});
  const key = document.querySelector(`#keyboard [data-pitch="${pitch}"]`);
  if (key) key.classList.add("down");
}

function noteOff(pitch) {
  const h = state.held.get(pitch);
  if (!h) return;
  state.held.delete(pitch);
  const key = document.querySelector(`#keyboard [data-pitch="${pitch}"]`);
  if (key) key.classList.remove("down");
  const rec = state.rec, ctx = audioCtx();
  if (!rec) return;
  const now = ctx ? ctx.currentTime : performance.now() / 1000;
  const spb = 60 / rec.tempo;
  const start = (h.t - rec.t0) / spb, end = (now - rec.t0) / spb;
  if (end <= 0) return;  // played during the count-in
  rec.notes.push({pitch, start: Math.max(0, start), duration: Math.max(0.05, end - Math.max(0, start)),
    velocity: h.velocity});
  state.song.tracks = [{name: "Melody", program: 0, is_drum: false, notes: rec.notes}];
  state.melody = 0;
  draw();
}

function isTyping(e) {
  const t = e.target;
  return t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
}

function setupKeyboard() {
  const kb = $("keyboard"), lo = 60, hi = 83, white = 28;
  let x = 0;
  for (let p = lo; p <= hi; p++) {
    const black = [1, 3, 6, 8, 10].includes(p % 12);
    const k = document.createElement("div");
    k.className = `key ${black ? "black" : "white"}`;
    k.dataset.pitch = String(p);
    if (black) { k.style.left = `${x - 9}px`; k.style.width = "18px"; } else {
      k.style.left = `${x}px`; k.style.width = `${white}px`; x += white;
      if (p % 12 === 0) k.innerHTML = `<span>C${p / 12 - 1}</span>`;
    }
    const shift = () => p + 12 * state.octave;
    k.addEventListener("mousedown", (e) => { e.preventDefault(); k.dataset.on = shift(); noteOn(shift()); });
    const up = () => { if (k.dataset.on) { noteOff(+k.dataset.on); delete k.dataset.on; } };
    k.addEventListener("mouseup", up);
    k.addEventListener("mouseleave", up);
    kb.appendChild(k);
  }
  window.addEventListener("keydown", (e) => {
    if (isTyping(e) || e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
    const key = e.key.toLowerCase();
    if (key === "z") { state.octave = Math.max(-3, state.octave - 1); return; }
    if (key === "x") { state.octave = Math.min(3, state.octave + 1); return; }
    if (key in KEYMAP) noteOn(60 + KEYMAP[key] + 12 * state.octave);
  });
  window.addEventListener("keyup", (e) => {
    const key = e.key.toLowerCase();
    if (key in KEYMAP) noteOff(60 + KEYMAP[key] + 12 * state.octave);
  });
}

function connectMidi() {
  if (!navigator.requestMIDIAccess) {
    $("midi-in").textContent += " Web MIDI is not available in this browser.";
    return;
  }
  navigator.requestMIDIAccess().then((access) => {
    const attach = () => {
      let n = 0;
      for (const input of access.inputs.values()) {
        n++;
        input.onmidimessage = (m) => {
          const [st, d1, d2] = m.data, kind = st & 0xf0;
          if (kind === 0x90 && d2 > 0) noteOn(d1, d2);
          else if (kind === 0x80 || (kind === 0x90 && d2 === 0)) noteOff(d1);
        };
      }
      $("midi-btn").textContent = n ? `MIDI: ${n} input${n > 1 ? "s" : ""}` : "MIDI: no input";
    };
    access.onstatechange = attach;
    attach();
  }, () => { $("midi-btn").textContent = "MIDI: not allowed"; });
}

function startRecording() {
  clearError();
  const ctx = audioCtx();
  if (!ctx) { showError("This browser has no Web Audio; recording needs it."); return; }
  if (ctx.state === "suspended") ctx.resume();
  const tempo = Math.min(300, Math.max(20, +$("tempo").value || 100));
  const sig = $("meter").value.split("/").map(Number);
  pushHistory();
  state.song = emptySong(tempo, sig);
  state.name = "recording";
  const spb = 60 / tempo, bar = sig[0] * 4 / sig[1];
  const count = $("countin").checked ? bar : 0;
  const t0 = ctx.currentTime + 0.15 + count * spb;
  state.rec = {tempo, t0, notes: [], next: ctx.currentTime + 0.15, beat: -count};
  // metronome: a look-ahead scheduler (accent on each bar's first beat)
  state.rec.timer = setInterval(() => {
    const rec = state.rec;
    if (!rec) return;
    while (rec.next < ctx.currentTime + 0.2) {
      const inBar = ((rec.beat % bar) + bar) % bar;
      if ($("metronome").checked || rec.beat < 0) {
        beep(inBar === 0 ? 1760 : 1175, rec.next, 0.05, inBar === 0 ? 0.3 : 0.18);
      }
      rec.next += spb; rec.beat += 1;
    }
  }, 25);
  $("record").classList.add("recording");
  $("record").disabled = true;
  $("record-stop").disabled = false;
  songChanged();
  status(count ? "Count-in… then play (computer keys, the on-screen keys or a MIDI keyboard)."
    : "Recording: play now.");
  setTimeout(() => { if (state.rec) status("Recording: play now."); }, count * spb * 1000 + 150);
}

function stopRecording() {
  const rec = state.rec;
  if (!rec) return;
  for (const p of [...state.held.keys()]) noteOff(p);
  clearInterval(rec.timer);
  state.rec = null;
  $("record").classList.remove("recording");
  $("record").disabled = false;
  $("record-stop").disabled = true;
  state.song.tracks = rec.notes.length ? [{name: "Melody", program: 0, is_drum: false,
    notes: rec.notes}] : [];
  songChanged();
}

function quantize() {
  const t = state.song.tracks[state.melody];
  if (!t) return;
  pushHistory();
  const q = grid();
  for (const n of t.notes) {
    const s = Math.max(0, Math.round(n.start / q) * q);
    const e = Math.max(s + q, Math.round((n.start + n.duration) / q) * q);
    n.start = s; n.duration = e - s;
  }
  songChanged();
}

// ------------------------------------------------------------------ start

function wire() {
  $("error-close").addEventListener("click", clearError);
  $("upload").addEventListener("change", (e) => { if (e.target.files[0]) upload(e.target.files[0]); });
  $("model").addEventListener("change", fillTasks);
  $("task").addEventListener("change", renderControls);
  $("generate").addEventListener("click", generate);
  $("cancel").addEventListener("click", () => { if (state.abort) state.abort.abort(); });
  $("play").addEventListener("click", play);
  $("stop").addEventListener("click", stopPlayback);
  $("record").addEventListener("click", startRecording);
  $("record-stop").addEventListener("click", stopRecording);
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
  const midi = document.createElement("button");
  midi.type = "button"; midi.id = "midi-btn"; midi.textContent = "Connect MIDI keyboard";
  midi.addEventListener("click", connectMidi);
  $("midi-in").after(midi);
}

async function start() {
  document.body.dataset.state = "loading";
  wire();
  setupRoll();
  setupKeyboard();
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

document.addEventListener("DOMContentLoaded", start);
