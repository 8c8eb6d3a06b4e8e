/* The piano roll on its canvas: the bar ruler (bar numbers through changes of meter, bars
 * chosen for infill), the chord strip, the notes of every track, the playback cursor; and
 * editing with the mouse (click: add, drag: move, right-click / Delete: remove, drag the
 * ruler: choose bars). */

import {renderControls} from "./controls.mjs";
import {$, isTyping, state, status} from "./state.mjs";
import {barAt, barBeats, barLines, barStart, isBlack, lengthBeats, octaveName,
  snap} from "./song.mjs";

export const PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#ec4899",
  "#14b8a6", "#84cc16", "#f97316", "#6366f1"];
export const RULER = 18, CHORD_STRIP = 16, ROW = 8;

const view = {lo: 48, hi: 84, ppb: 24, chords: false, frozen: null};

function layout() {
  const s = state.song;
  let lo = 127, hi = 0;
  for (const t of s.tracks) {
    for (const n of t.notes) { lo = Math.min(lo, n.pitch); hi = Math.max(hi, n.pitch); }
  }
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

export function rollTop() { return RULER + (view.chords ? CHORD_STRIP : 0); }
export function xOf(beat) { return beat * view.ppb; }
export function yOf(pitch) { return rollTop() + (view.hi - pitch) * ROW; }
function beatOf(x) { return x / view.ppb; }
function pitchOf(y) { return view.hi - Math.floor((y - rollTop()) / ROW); }

export function draw() {
  layout();
  const s = state.song, canvas = $("roll"), g = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  g.clearRect(0, 0, W, H);
  for (let p = view.lo; p <= view.hi; p++) {  // black-key rows
    if (isBlack(p)) { g.fillStyle = "#eef0f3"; g.fillRect(0, yOf(p), W, ROW); }
    if (p % 12 === 0) {
      g.fillStyle = "#9ca3af"; g.font = "9px sans-serif";
      g.fillText(octaveName(p), 2, yOf(p) + ROW - 1);
    }
  }
  if (state.bars) {  // bars chosen for infill
    const x0 = xOf(barStart(s, state.bars[0])), x1 = xOf(barStart(s, state.bars[1] + 1));
    g.fillStyle = "rgba(250, 204, 21, 0.18)"; g.fillRect(x0, 0, x1 - x0, H);
    g.fillStyle = "#facc15"; g.fillRect(x0, 0, x1 - x0, RULER);
  }
  const end = beatOf(W);
  for (let b = 0; b <= end; b += 1) {  // beat lines
    g.fillStyle = "#e5e7eb"; g.fillRect(Math.round(xOf(b)), rollTop(), 1, H - rollTop());
  }
  drawRuler(g, s, end, H);
  g.fillStyle = "#d1d5db"; g.fillRect(0, RULER - 1, W, 1);
  if (view.chords) {
    g.font = "bold 11px sans-serif";
    for (const [a, b, label] of s.chords) {
      g.fillStyle = "#f3f4f6";
      g.fillRect(xOf(a) + 1, RULER, xOf(b) - xOf(a) - 2, CHORD_STRIP - 1);
      g.fillStyle = "#7c2d12"; g.fillText(label, xOf(a) + 3, RULER + 12);
    }
  }
  const drawn = drawNotes(g, s);
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

/** Bar lines across the roll and their numbers on the ruler; where the meter changes, the
 *  new time signature is written after the bar number. */
function drawRuler(g, s, end, H) {
  let meter = null;
  for (const {bar, beat, num, den} of barLines(s, end)) {
    const x = Math.round(xOf(beat));
    g.fillStyle = "#6b7280"; g.fillRect(x, 0, 1, H);
    g.font = "11px sans-serif";
    g.fillStyle = "#374151"; g.fillText(String(bar), x + 3, 13);
    const here = `${num}/${den}`;
    if (meter !== null && here !== meter) {
      const w = g.measureText(String(bar)).width;
      g.font = "italic 10px sans-serif";
      g.fillStyle = "#b45309"; g.fillText(here, x + 7 + w, 13);
    }
    meter = here;
  }
}

function drawNotes(g, s) {
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
  return drawn;
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

/** The quantize grid chosen on the page, in beats. */
export function grid() { return +$("grid").value; }

/** Mouse and key editing on the roll. hooks.pushHistory() is called before each edit,
 *  hooks.songChanged() after one. */
export function setupRoll(hooks) {
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
    hooks.pushHistory();
    if (!h) {  // add a note to the melody track
      if (!s.tracks.length) {
        s.tracks.push({name: "Melody", program: 0, is_drum: false, notes: []});
        state.melody = 0;
      }
      const t = s.tracks[state.melody];
      t.notes.push({pitch: pitchOf(y), start: snap(beatOf(x) - grid() / 2 + 1e-9, grid()),
        duration: grid(), velocity: 90});
      h = {t: state.melody, i: t.notes.length - 1};
      hooks.songChanged();
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
    n.start = snap(drag.start + beatOf(x - drag.x0), grid());
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
    if (drag && drag.moved) hooks.songChanged(); else if (drag) draw();
    drag = null;
  });
  canvas.addEventListener("contextmenu", (e) => {
    e.preventDefault();
    const [x, y] = pos(e), h = hit(x, y);
    if (h) {
      hooks.pushHistory();
      state.song.tracks[h.t].notes.splice(h.i, 1);
      state.selected = null;
      hooks.songChanged();
    }
  });
  window.addEventListener("keydown", (e) => {
    if (isTyping(e)) return;
    if ((e.key === "Delete" || e.key === "Backspace") && state.selected) {
      hooks.pushHistory();
      state.song.tracks[state.selected.t].notes.splice(state.selected.i, 1);
      state.selected = null;
      hooks.songChanged();
      e.preventDefault();
    }
  });
  $("zoom").addEventListener("input", draw);
  window.addEventListener("resize", draw);
}
