// The studio's song logic (deepcompose/studio/song.mjs) under node's test runner:
// node --test tests/js/   (tests/test_studio_js.py runs it from pytest)
import assert from "node:assert/strict";
import {test} from "node:test";

import {audible, barAt, barCount, barLines, barStart, guessMelody, meterMap, midiNote,
  normalize, quantizeNotes, recordedNote, request, secondsToBeats} from
  "../../deepcompose/studio/song.mjs";

const notes = (...spans) => spans.map(([start, duration], i) => (
  {pitch: 60 + i, start, duration, velocity: 90}));
const song = (fields, ...spans) => normalize(
  {tempo: 120, time_signature: [4, 4], ...fields, tracks: [{name: "Melody",
    notes: notes(...spans)}]});
const starts = (s, end) => barLines(s, end).map((b) => [b.bar, b.beat]);

// 4/4, then 3/4 from beat 16, then 4/4 again from beat 22 (no pickup)
const CHANGES = song({time_signatures: [[0, 4, 4], [16, 3, 4], [22, 4, 4]]}, [0, 30]);

test("bar numbers count on through changes of meter", () => {
  assert.deepEqual(starts(CHANGES, 26), [[1, 0], [2, 4], [3, 8], [4, 12], [5, 16], [6, 19],
    [7, 22], [8, 26]]);
  assert.deepEqual(barLines(CHANGES, 26).map((b) => `${b.num}/${b.den}`),
    ["4/4", "4/4", "4/4", "4/4", "3/4", "3/4", "4/4", "4/4"]);
  for (const [k, beat] of starts(CHANGES, 40)) assert.equal(barStart(CHANGES, k), beat);
  assert.deepEqual([15.9, 16, 18.99, 19, 21.9, 22, 25.9, 26].map((b) => barAt(CHANGES, b)),
    [4, 5, 5, 6, 6, 7, 7, 8]);
  assert.equal(barCount(CHANGES), 8);  // the last note ends at beat 30, inside bar 8
});

test("a change of meter in the middle of a bar cuts that bar short", () => {
  const s = song({time_signatures: [[0, 4, 4], [18, 3, 4]]}, [0, 24]);
  // bar 5 is [16, 18): two beats, still one bar; the 3/4 bars start at the change
  assert.deepEqual(starts(s, 24), [[1, 0], [2, 4], [3, 8], [4, 12], [5, 16], [6, 18],
    [7, 21], [8, 24]]);
  assert.equal(barAt(s, 17.5), 5);
  assert.equal(barAt(s, 18), 6);
  assert.equal(barCount(s), 7);
});

test("a pickup is bar 0 and bar 1 starts at the first bar line", () => {
  const s = song({time_signature: [3, 4], pickup: 1}, [0, 1], [1, 9]);
  assert.deepEqual(starts(s, 10), [[0, 0], [1, 1], [2, 4], [3, 7], [4, 10]]);
  assert.equal(barAt(s, 0.5), 0);
  assert.equal(barAt(s, 1), 1);
  assert.equal(barStart(s, 0), 0);
  assert.equal(barStart(s, 2), 4);
  assert.equal(barCount(s), 3);  // the music ends at beat 10
});

test("a pickup and a later change of meter", () => {
  const s = song({time_signatures: [[0, 3, 4], [7, 2, 4], [11, 6, 8]], pickup: 1}, [0, 20]);
  assert.deepEqual(starts(s, 20), [[0, 0], [1, 1], [2, 4], [3, 7], [4, 9], [5, 11],
    [6, 14], [7, 17], [8, 20]]);
});

test("a change at or before the first bar line is the first meter", () => {
  // 4/4 with a one-beat pickup, 3/4 from beat 1 (the first bar line): bars of 3 from beat 1
  const at = song({time_signatures: [[0, 4, 4], [1, 3, 4]], pickup: 1}, [0, 8]);
  assert.deepEqual(starts(at, 8), [[0, 0], [1, 1], [2, 4], [3, 7]]);
  const before = song({time_signatures: [[0, 4, 4], [0.5, 3, 4]], pickup: 1}, [0, 8]);
  assert.deepEqual(starts(before, 8), starts(at, 8));
});

test("no time_signatures: the one time_signature; without a pickup there is no bar 0", () => {
  const s = song({time_signature: [6, 8]}, [0, 6]);
  assert.deepEqual(starts(s, 9), [[1, 0], [2, 3], [3, 6], [4, 9]]);
  assert.equal(barStart(s, 0), 0);
});

test("time signatures are read as the server reads them", () => {
  // unsorted, the first after beat 0, a repeat of the same meter, two at one beat
  const map = meterMap({time_signatures: [[8, 3, 4], [4, 4, 4], [12, 3, 4], [16, 2, 4],
    [16, 6, 8]]});
  assert.deepEqual(map, [[0, 4, 4], [8, 3, 4], [16, 6, 8]]);
});

test("a song round-trips through the normalizer and the request", () => {
  const given = {tempo: 90, time_signature: [3, 4], pickup: 1, key: "G major",
    tempos: [[0, 90], [12, 60]], time_signatures: [[0, 3, 4], [12, 2, 4]],
    notes: [[67, 0, 1], [71, 1, 0.5, 100], [74, 1.5, 1.33333333]]};
  const s = normalize(given);
  assert.equal(s.tracks.length, 1);
  assert.deepEqual(s.tracks[0].notes[0], {pitch: 67, start: 0, duration: 1, velocity: 90});
  assert.equal(s.tracks[0].notes[1].velocity, 100);
  const sent = request(s);
  assert.equal(sent.tracks[0].notes[2].duration, 1.333333);  // beats to 6 decimals
  assert.deepEqual([sent.tempos, sent.time_signatures, sent.key, sent.pickup],
    [given.tempos, given.time_signatures, "G major", 1]);
  assert.deepEqual(request(normalize(sent)), sent);
  assert.equal(normalize({notes: []}).tempo, 120);
  assert.deepEqual(normalize({tempos: [[0, 75]], tracks: []}).time_signature, [4, 4]);
  assert.equal(normalize({tempos: [[0, 75]], tracks: []}).tempo, 75);
});

test("mute and solo choose the tracks one hears", () => {
  const s = normalize({tracks: [{name: "A", notes: [[60, 0, 1]]},
    {name: "B", notes: [[40, 0, 1]]}, {name: "C", notes: [[36, 0, 1]]}]});
  const names = (muted, solo) => audible(s, new Set(muted), new Set(solo)).tracks
    .map((t) => t.name);
  assert.deepEqual(names([], []), ["A", "B", "C"]);
  assert.deepEqual(names([1], []), ["A", "C"]);
  assert.deepEqual(names([1], [1]), ["B"]);  // a solo wins over a mute
});

test("the playback cursor follows tempo changes", () => {
  const s = normalize({tempos: [[0, 120], [4, 60]], tracks: []});
  assert.equal(secondsToBeats(s, 1), 2);
  assert.equal(secondsToBeats(s, 3), 5);  // 4 beats in 2 s, then one beat a second
});

test("the melody is the track named so, else the highest (never the drums)", () => {
  const tracks = (...ts) => normalize({tracks: ts});
  assert.equal(guessMelody(tracks({name: "Bass", notes: [[40, 0, 1]]},
    {name: "Piano", notes: [[72, 0, 1]]})), 1);
  assert.equal(guessMelody(tracks({name: "Piano", notes: [[80, 0, 1]]},
    {name: "Lead vocal", notes: [[60, 0, 1]]})), 1);
  assert.equal(guessMelody(tracks({name: "Bass", notes: [[40, 0, 1]]},
    {name: "Kit", is_drum: true, notes: [[81, 0, 1]]})), 0);
});

test("quantize puts starts and ends on the grid and keeps every note", () => {
  const got = quantizeNotes([{pitch: 60, start: 0.13, duration: 0.3},
    {pitch: 62, start: 0.9, duration: 0.05}, {pitch: 64, start: -0.1, duration: 1.2}], 0.5);
  assert.deepEqual(got.map((n) => [n.start, n.duration]), [[0, 0.5], [1, 0.5], [0, 1]]);
});

test("recorded notes: beats from the recording's clock, none from the count-in", () => {
  // 120 bpm, beat 0 at t0 = 10 s: a note from 10.5 s to 11 s is beat 1 for one beat
  assert.deepEqual(recordedNote(60, 80, 10.5, 11, 10, 120),
    {pitch: 60, start: 1, duration: 1, velocity: 80});
  assert.equal(recordedNote(60, 80, 9, 9.9, 10, 120), null);  // over before beat 0
  assert.equal(recordedNote(60, 80, 9.5, 10.5, 10, 120).start, 0);  // held into the bar
});

test("MIDI note-on with velocity 0 is a note-off; other messages are no notes", () => {
  assert.deepEqual(midiNote([0x91, 64, 100]), {on: true, pitch: 64, velocity: 100});
  assert.equal(midiNote([0x90, 64, 0]).on, false);
  assert.equal(midiNote([0x80, 64, 30]).on, false);
  assert.equal(midiNote([0xb0, 64, 127]), null);  // a controller (sustain pedal)
});
