/* The page's one state object and the DOM helpers every part of the studio uses: look up an
 * element, say something in the status line, show or dismiss an error. */

import {emptySong} from "./song.mjs";

export const $ = (id) => document.getElementById(id);

export const state = {
  song: emptySong(100, [4, 4]),
  melody: 0,            // index of the melody track
  muted: new Set(), solo: new Set(),
  history: [],
  selected: null,       // {t, i}: track and note index
  bars: null,           // [a, b] bars chosen on the ruler (1-based; a pickup is bar 0)
  models: [],
  families: [],         // the family table's rows (GET /models)
  values: {},           // control values typed by the user, by name
  abort: null, audio: null, audioKey: null, audioUrl: null, playing: false, cursor: null,
  rec: null, octave: 0, ctx: null, held: new Map(), name: "melody",
};

export function showError(text) {
  $("error-text").textContent = text;
  $("error").hidden = false;
}

export function clearError() { $("error").hidden = true; }

export function status(text) { $("status").textContent = text; }

/** Whether a key event belongs to a form field (then it is no note and no edit). */
export function isTyping(e) {
  const t = e.target;
  return t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
}
