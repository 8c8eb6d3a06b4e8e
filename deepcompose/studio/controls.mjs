/* The Generate panel's form, built from what the server declares: models, their tasks, and
 * each model's controls (GET /models); and the values the user set, for POST /compose. */

import {fetchModels} from "./api.mjs";
import {familyText, tasksFor} from "./families.mjs";
import {$, state} from "./state.mjs";
import {barsText, noteCount} from "./song.mjs";

export async function loadModels() {
  const listing = await fetchModels();
  state.models = listing.models;
  state.families = listing.families || [];
  const sel = $("model");
  sel.innerHTML = "";
  for (const m of state.models) {
    const o = document.createElement("option");
    o.value = m.name;
    o.textContent = m.weights ? m.name : `${m.name} (no weights)`;
    sel.appendChild(o);
  }
  // the family table's first model is selected: the server lists them in table order
  fillTasks();
}

export function currentModel() { return state.models.find((m) => m.name === $("model").value); }

/** The style chosen for model ``m`` (its default when the value is not one of its). */
export function currentStyle(m = currentModel()) {
  const ctl = m && (m.controls || []).find((c) => c.name === "style");
  if (!ctl) return null;
  return ctl.choices.includes(state.values.style) ? state.values.style : ctl.default;
}

/** The task list: what the family playing the chosen model and style does. */
export function fillTasks() {
  const m = currentModel(), sel = $("task"), old = sel.value;
  sel.innerHTML = "";
  for (const t of (m ? tasksFor(state.families, m, currentStyle(m)) : [])) {
    const o = document.createElement("option");
    o.value = t; o.textContent = t;
    sel.appendChild(o);
  }
  if ([...sel.options].some((o) => o.value === old)) sel.value = old;
  renderControls();
}

function controlApplies(c, task, style) {
  if (c.tasks && !c.tasks.includes(task)) return false;
  if (c.styles && !c.styles.includes(style)) return false;
  return true;
}

export function renderControls() {
  const box = $("controls"), m = currentModel(), task = $("task").value;
  box.innerHTML = "";
  $("family").textContent = "";
  if (!m) return;
  const controls = m.controls || [];
  const style = currentStyle(m);
  $("family").textContent = familyText(state.families, m.name, style);
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
        if (c.name === "style") fillTasks();  // the style's family may do other tasks
      });
    } else {
      input = document.createElement("input");
      input.type = "text";
      input.inputMode = c.type === "int" ? "numeric" : c.type === "float" ? "decimal" : "text";
      input.placeholder = c.default === null || c.default === undefined ? "default"
        : String(c.default);
      if (c.name === "bars" && task === "infill" && state.bars) {
        input.placeholder = `${barsText(state.bars)} (chosen on the roll)`;
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

/** Only what the user set (the server checks every value); the bars chosen on the ruler
 *  stand for an empty "bars" field of infill. */
export function controlValues() {
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
        out.bars = barsText(state.bars);
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

export function updateGenerate() {
  const m = currentModel();
  $("generate").disabled = !m || !noteCount(state.song) || !!state.abort;
}
