// The studio's reading of the family table (deepcompose/studio/families.mjs).
import assert from "node:assert/strict";
import {test} from "node:test";

import {familyText, playing, tasksFor} from "../../deepcompose/studio/families.mjs";

const FAMILIES = [
  {family: "transformer", model: "transformer", styles: ["chorale"], plan: "voices",
    tasks: ["accompany", "continue"], summary: "four voices", weights: "w"},
  {family: "melody", model: "transformer", styles: ["pop", "folk", "classical"],
    plan: "melody", tasks: ["continue", "infill"], summary: "one line", weights: "w"},
  {family: "gan_pop", model: "gan", styles: ["pop"], plan: "band",
    tasks: ["accompany", "continue"], summary: "a band", weights: "w"},
  {family: "gan_drums", model: "gan", styles: ["pop"], plan: "", part_of: "gan_pop",
    tasks: ["accompany"], summary: "drums", weights: null},
];
const TRANSFORMER = {name: "transformer", tasks: ["accompany", "continue", "infill"]};

test("each style offers the tasks of the family that plays it", () => {
  assert.deepEqual(tasksFor(FAMILIES, TRANSFORMER, null), ["accompany", "continue"]);
  assert.deepEqual(tasksFor(FAMILIES, TRANSFORMER, "chorale"), ["accompany", "continue"]);
  assert.deepEqual(tasksFor(FAMILIES, TRANSFORMER, "folk"), ["continue", "infill"]);
  assert.equal(playing(FAMILIES, "transformer", "pop").family, "melody");
  assert.equal(playing(FAMILIES, "gan", "pop").family, "gan_pop");  // not its drums part
});

test("the family line names a family and its parts", () => {
  assert.equal(familyText(FAMILIES, "gan", "pop"),
    "gan_pop: a band; gan_drums (no weights): drums");
  assert.equal(familyText(FAMILIES, "transformer", "classical"), "melody: one line");
  assert.equal(familyText(FAMILIES, "arcnn", null), "");
});
