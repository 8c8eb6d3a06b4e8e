// The studio's re-roll buttons (deepcompose/studio/families.mjs): which track is which part,
// from the family table's edit_parts (GET /models). node --test tests/js/
import assert from "node:assert/strict";
import {test} from "node:test";

import {editRole} from "../../deepcompose/studio/families.mjs";

const FAMILIES = [
  {family: "gan", model: "gan", styles: ["chorale"], plan: "voices", edit_parts: {}},
  {family: "gan_pop", model: "gan", styles: ["pop"], plan: "band",
    edit_parts: {bass: "Bass", keys: "Keys", counter: "Counter", drums: "Drums"}},
  {family: "gan_drums", model: "gan", styles: ["pop"], plan: null, edit_parts: {}},
  {family: "gan_strings", model: "gan", styles: ["strings"], plan: "band",
    edit_parts: {violin2: "Violin II", viola: "Viola", cello: "Cello"}},
];

test("a track is a part of the chosen style by its name", () => {
  assert.equal(editRole(FAMILIES, "gan", "pop", "Bass"), "bass");
  assert.equal(editRole(FAMILIES, "gan", "pop", " drums "), "drums");
  assert.equal(editRole(FAMILIES, "gan", "strings", "violin ii"), "violin2");
  assert.equal(editRole(FAMILIES, "gan", "strings", "Bass"), null);
  assert.equal(editRole(FAMILIES, "gan", "pop", "Melody"), null);
  assert.equal(editRole(FAMILIES, "gan", "chorale", "Bass"), null);
  assert.equal(editRole(FAMILIES, "arcnn", null, "Bass"), null);
});
