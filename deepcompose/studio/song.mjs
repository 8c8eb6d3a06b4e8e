/* The studio's song logic, without the page: the JSON notes schema, bars through changes of
 * meter, note edits and MIDI helpers. No DOM here: node's test runner imports this file.
 *
 * A song: {tempo, time_signature: [num, den], pickup, tracks: [{name, program, is_drum,
 * notes: [{pitch, start, duration, velocity}]}], and optionally tempos [[beat, bpm]],
 * time_signatures [[beat, num, den]], key, title, chords [[start, end, label]]}; times are
 * in beats (quarter notes).
 */

const EPS = 1e-9;

export function emptySong(tempo, sig) {
  return {tempo: tempo, time_signature: sig, pickup: 0, tracks: []};
}

/** Any song the server or a file gives (notes as arrays or objects, one "notes" list or
 *  "tracks") -> the studio's form: tracks of note objects, tempo, time signature, pickup. */
export function normalize(song) {
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

/** The song as the server takes it: beats to 6 decimals, the server's own precision, so a
 *  result posted back keeps every note it had (an edit keeps them byte for byte); its
 *  chords go back as its record, which no model plays unless asked (``use_chords``). */
export function request(song) {
  const out = {tempo: song.tempo, time_signature: song.time_signature, pickup: song.pickup || 0,
    tracks: song.tracks.map((t) => ({name: t.name, program: t.program, is_drum: t.is_drum,
      notes: t.notes.map((n) => ({pitch: n.pitch, start: +n.start.toFixed(6),
        duration: +n.duration.toFixed(6), velocity: n.velocity}))}))};
  if (song.chords && song.chords.length) out.chords = song.chords;
  if (song.tempos) out.tempos = song.tempos;
  if (song.time_signatures) out.time_signatures = song.time_signatures;
  if (song.key) out.key = song.key;
  return out;
}

/** request(song) with only the tracks one hears: the soloed ones, else the unmuted ones. */
export function audible(song, muted, solo) {
  const s = request(song);
  s.tracks = s.tracks.filter((t, i) => solo.size ? solo.has(i) : !muted.has(i));
  return s;
}

export function lengthBeats(song) {
  let end = 0;
  for (const t of song.tracks) for (const n of t.notes) end = Math.max(end, n.start + n.duration);
  return end;
}

export function noteCount(song) {
  return song.tracks.reduce((a, t) => a + t.notes.length, 0);
}

/** The track most likely to be the tune: named so, else the highest on average (no drums). */
export function guessMelody(song) {
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

// ------------------------------------------------------------------ bars and meter

/** The song's time signatures [[beat, num, den]] as the server reads them: sorted, one per
 *  beat (the last given wins), the first at beat 0, repeats of the same meter dropped. */
export function meterMap(song) {
  const given = song.time_signatures && song.time_signatures.length ? song.time_signatures
    : [[0, ...(song.time_signature || [4, 4])]];
  const byBeat = new Map();
  for (const [beat, num, den] of given) byBeat.set(Number(beat), [num, den]);
  const items = [...byBeat].sort((a, b) => a[0] - b[0]);
  if (items[0][0] > 0) items.unshift([0, items[0][1]]);
  const out = [];
  for (const [beat, [num, den]] of items) {
    const last = out[out.length - 1];
    if (beat >= 0 && (!last || last[1] !== num || last[2] !== den)) out.push([beat, num, den]);
  }
  return out;
}

/** Beats in one bar of the first meter. */
export function barBeats(song) {
  const [, num, den] = meterMap(song)[0];
  return num * 4 / den;
}

/** Stretches of one meter, [{start, bar, num, den}]: the first from the first bar line (the
 *  pickup), then one per change of meter. A change starts a bar and cuts the bar before it
 *  short; a change at or before the first bar line is the first meter. The same rule as
 *  deepcompose.representations.multitrack.meter_stretches. */
export function meterStretches(song) {
  const [[, num, den], ...changes] = meterMap(song);
  const first = num * 4 / den;
  const out = [{start: (song.pickup || 0) % first, bar: first, num, den}];
  for (const [beat, n, d] of changes) {
    const s = {start: beat, bar: n * 4 / d, num: n, den: d};
    const last = out[out.length - 1];
    if (beat > last.start + EPS) out.push(s);
    else Object.assign(last, {bar: s.bar, num: n, den: d});
  }
  return out;
}

/** Every bar line from the start, without end: {bar, beat, num, den}; bar 0 is the pickup
 *  [0, pickup) when there is one, bar 1 starts at the first bar line. */
export function* bars(song) {
  const st = meterStretches(song);
  if (st[0].start > EPS) yield {bar: 0, beat: 0, num: st[0].num, den: st[0].den};
  let k = 1;
  for (let i = 0; i < st.length; i++) {
    const next = i + 1 < st.length ? st[i + 1].start : Infinity;
    for (let j = 0; ; j++) {
      const beat = st[i].start + j * st[i].bar;
      if (beat >= next - EPS) break;
      yield {bar: k++, beat, num: st[i].num, den: st[i].den};
    }
  }
}

/** The bar lines at or before endBeat, with their bar numbers. */
export function barLines(song, endBeat) {
  const out = [];
  for (const b of bars(song)) {
    if (b.beat > endBeat + EPS) break;
    out.push(b);
  }
  return out;
}

/** Beat where bar k starts (1-based; bar 0 is a pickup and starts at 0). */
export function barStart(song, k) {
  if (k <= 0) return 0;
  for (const b of bars(song)) if (b.bar === k) return b.beat;
  return 0;  // not reached: bars() has no end
}

/** The number of the bar that holds beat (0: the pickup). */
export function barAt(song, beat) {
  const st = meterStretches(song);
  let before = 1;
  for (let i = 0; i + 1 < st.length; i++) {
    if (beat < st[i + 1].start) {
      return Math.max(0, before + Math.floor((beat - st[i].start) / st[i].bar));
    }
    before += Math.ceil((st[i + 1].start - st[i].start) / st[i].bar - EPS);
  }
  const last = st[st.length - 1];
  return Math.max(0, before + Math.floor((beat - last.start) / last.bar));
}

/** Number of the last bar with music in it (at least 1). */
export function barCount(song) {
  return Math.max(1, barAt(song, Math.max(0, lengthBeats(song) - 1e-6)));
}

/** Bars [a, b] chosen on the ruler as the server's "bars" control: "A:B". */
export function barsText(chosen) {
  return `${chosen[0]}:${chosen[1]}`;
}

// ------------------------------------------------------------------ time

export function tempos(song) {
  return song.tempos && song.tempos.length ? song.tempos : [[0, song.tempo]];
}

/** Audio time -> song beat through the tempo changes (the WAV starts at beat 0). */
export function secondsToBeats(song, secs) {
  const map = tempos(song).map(([b, bpm], i) => [i === 0 ? 0 : b, bpm]);
  let acc = 0, [prevB, prevBpm] = map[0];
  for (const [b, bpm] of map.slice(1)) {
    const seg = (b - prevB) * 60 / prevBpm;
    if (acc + seg >= secs) break;
    acc += seg; prevB = b; prevBpm = bpm;
  }
  return prevB + (secs - acc) * prevBpm / 60;
}

// ------------------------------------------------------------------ note edits

/** beat on the grid of q beats (never before 0). */
export function snap(beat, q) {
  return Math.max(0, Math.round(beat / q) * q);
}

/** Every note's start and end onto the grid of q beats; a note keeps at least q. In place. */
export function quantizeNotes(notes, q) {
  for (const n of notes) {
    const s = snap(n.start, q);
    const e = Math.max(s + q, Math.round((n.start + n.duration) / q) * q);
    n.start = s; n.duration = e - s;
  }
  return notes;
}

/** A note played from onSec to offSec (seconds on the recording's clock, whose beat 0 is at
 *  t0 seconds) at tempo bpm; null when it ended during the count-in. */
export function recordedNote(pitch, velocity, onSec, offSec, t0, tempo) {
  const spb = 60 / tempo;
  const start = (onSec - t0) / spb, end = (offSec - t0) / spb;
  if (end <= 0) return null;
  return {pitch, start: Math.max(0, start), duration: Math.max(0.05, end - Math.max(0, start)),
    velocity};
}

// ------------------------------------------------------------------ MIDI helpers

/** Computer keys -> semitones above C4 (the row A W S E D F T G Y H U J K O L P). */
export const KEYMAP = {a: 0, w: 1, s: 2, e: 3, d: 4, f: 5, t: 6, g: 7, y: 8, h: 9, u: 10,
  j: 11, k: 12, o: 13, l: 14, p: 15};

export function isBlack(pitch) {
  return [1, 3, 6, 8, 10].includes(((pitch % 12) + 12) % 12);
}

/** "C4" for 60; only C's are labelled on the roll and the keyboard. */
export function octaveName(pitch) {
  return `C${Math.floor(pitch / 12) - 1}`;
}

export function frequency(pitch) {
  return 440 * Math.pow(2, (pitch - 69) / 12);
}

/** A MIDI message's bytes -> {on: true|false, pitch, velocity}, or null when it is not a
 *  note; a note-on with velocity 0 is a note-off. */
export function midiNote(data) {
  const [st, d1, d2] = data, kind = st & 0xf0;
  if (kind === 0x90 && d2 > 0) return {on: true, pitch: d1, velocity: d2};
  if (kind === 0x80 || (kind === 0x90 && d2 === 0)) return {on: false, pitch: d1, velocity: 0};
  return null;
}
