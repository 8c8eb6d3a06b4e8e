/* Sound: playback of the song as the server renders it (POST /render, cached until the
 * audible song changes) with the cursor following it on the roll, and the Web Audio beeps
 * of the keyboard and the metronome. */

import {renderWav} from "./api.mjs";
import {draw} from "./roll.mjs";
import {$, clearError, showError, state, status} from "./state.mjs";
import {audible, noteCount, secondsToBeats} from "./song.mjs";

export async function play() {
  clearError();
  const song = audible(state.song, state.muted, state.solo);
  if (!song.tracks.length) { showError("Every track is muted."); return; }
  const key = JSON.stringify(song);
  $("play").disabled = true;
  try {
    if (state.audioKey !== key) {
      status("Rendering audio…");
      const blob = await renderWav(song);
      if (state.audioUrl) URL.revokeObjectURL(state.audioUrl);
      state.audioUrl = URL.createObjectURL(blob);
      state.audioKey = key;
      if ($("status").textContent.startsWith("Rendering")) status("Playing.");
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

function frame() {
  if (!state.playing || !state.audio) return;
  const t = state.audio.currentTime;
  state.cursor = secondsToBeats(state.song, t);
  $("time").textContent = `${t.toFixed(1)} s`;
  draw();
  requestAnimationFrame(frame);
}

export function stopPlayback() {
  if (state.audio) { state.audio.pause(); state.audio = null; }
  state.playing = false;
  state.cursor = null;
  if (document.body.dataset.state === "playing") document.body.dataset.state = "idle";
  $("stop").disabled = true;
  $("play").disabled = !noteCount(state.song);
  draw();
}

/** The page's Web Audio context, made on first use; null where the browser has none. */
export function audioCtx() {
  if (!state.ctx) {
    const C = window.AudioContext || window.webkitAudioContext;
    if (C) state.ctx = new C();
  }
  return state.ctx;
}

/** A short triangle tone at freq Hz from `when` (context seconds) for dur seconds. */
export function beep(freq, when, dur, gain) {
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

/** Seconds on the audio clock (or the page's clock without Web Audio). */
export function now() {
  const ctx = audioCtx();
  return ctx ? ctx.currentTime : performance.now() / 1000;
}
