/* Playing a melody in: the on-screen keyboard, the computer keys (A W S E D …, Z/X: octave),
 * a MIDI keyboard (Web MIDI), and recording them against a metronome with a count-in. */

import {audioCtx, beep, now} from "./audio.mjs";
import {draw} from "./roll.mjs";
import {$, clearError, isTyping, showError, state, status} from "./state.mjs";
import {KEYMAP, emptySong, frequency, isBlack, midiNote, octaveName,
  recordedNote} from "./song.mjs";

let hooks = {pushHistory() {}, songChanged() {}};

function noteOn(pitch, velocity = 90) {
  if (state.held.has(pitch)) return;
  const t = now();
  beep(frequency(pitch), t, 0.6, 0.15 * velocity / 127);
  state.held.set(pitch, {t, velocity});
  const key = document.querySelector(`#keyboard [data-pitch="${pitch}"]`);
  if (key) key.classList.add("down");
}

function noteOff(pitch) {
  const h = state.held.get(pitch);
  if (!h) return;
  state.held.delete(pitch);
  const key = document.querySelector(`#keyboard [data-pitch="${pitch}"]`);
  if (key) key.classList.remove("down");
  const rec = state.rec;
  if (!rec) return;
  const note = recordedNote(pitch, h.velocity, h.t, now(), rec.t0, rec.tempo);
  if (!note) return;  // played during the count-in
  rec.notes.push(note);
  state.song.tracks = [{name: "Melody", program: 0, is_drum: false, notes: rec.notes}];
  state.melody = 0;
  draw();
}

function setupKeyboard() {
  const kb = $("keyboard"), lo = 60, hi = 83, white = 28;
  let x = 0;
  for (let p = lo; p <= hi; p++) {
    const black = isBlack(p);
    const k = document.createElement("div");
    k.className = `key ${black ? "black" : "white"}`;
    k.dataset.pitch = String(p);
    if (black) { k.style.left = `${x - 9}px`; k.style.width = "18px"; } else {
      k.style.left = `${x}px`; k.style.width = `${white}px`; x += white;
      if (p % 12 === 0) k.innerHTML = `<span>${octaveName(p)}</span>`;
    }
    const shift = () => p + 12 * state.octave;
    k.addEventListener("mousedown", (e) => {
      e.preventDefault(); k.dataset.on = shift(); noteOn(shift());
    });
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
          const note = midiNote(m.data);
          if (note && note.on) noteOn(note.pitch, note.velocity);
          else if (note) noteOff(note.pitch);
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
  hooks.pushHistory();
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
  hooks.songChanged();
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
  hooks.songChanged();
}

/** The keyboards, the MIDI button and the record buttons. h.pushHistory() is called before
 *  a recording replaces the song, h.songChanged() when it starts and ends. */
export function setupInput(h) {
  hooks = h;
  setupKeyboard();
  $("record").addEventListener("click", startRecording);
  $("record-stop").addEventListener("click", stopRecording);
  const midi = document.createElement("button");
  midi.type = "button"; midi.id = "midi-btn"; midi.textContent = "Connect MIDI keyboard";
  midi.addEventListener("click", connectMidi);
  $("midi-in").after(midi);
}
