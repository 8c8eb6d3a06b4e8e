/* The studio's client of the local deepcompose server: GET /models (models, tasks, declared
 * controls), GET /examples, POST /convert?name=F (upload -> song), POST /compose, POST /render
 * (song -> WAV), POST /export?format=midi|musicxml. A failed request throws an Error whose
 * message is the server's own (its JSON "error"); an aborted one throws the AbortError. */

export async function api(path, options = {}) {
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

export function jsonPost(path, obj, signal) {
  return api(path, {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify(obj), signal: signal});
}

/** [{name, weights, tasks, controls}] */
/** {models: [{name, tasks, styles, controls, ...}], families: [{family, model, styles, ...}]} */
export async function fetchModels() {
  return (await api("/models")).json();
}

/** [{name, title, meter, bars, source, song}] */
export async function fetchExamples() {
  return (await (await api("/examples")).json()).examples;
}

/** A file the user opened (MIDI, MusicXML, ABC, JSON) -> its song, read by the server. */
export async function convertFile(file) {
  const data = await file.arrayBuffer();
  const res = await api(`/convert?name=${encodeURIComponent(file.name)}`,
    {method: "POST", headers: {"Content-Type": "application/octet-stream"}, body: data});
  return res.json();
}

/** The request (a song plus model, task, track and controls) -> the composed song. */
export async function compose(body, signal) {
  return (await jsonPost("/compose", body, signal)).json();
}

/** A song -> its audio as a WAV Blob. */
export async function renderWav(song) {
  return (await jsonPost("/render", song)).blob();
}

/** A song -> a MIDI ("midi") or MusicXML ("musicxml") file as a Blob. */
export async function exportFile(song, format) {
  return (await jsonPost(`/export?format=${format}`, song)).blob();
}
