/* The family table as the server lists it (GET /models "families"): which family plays a
 * model in a style, and what it can do. Pure functions (tested with node). */

/** The family that plays ``model`` (a name) in ``style`` (or the model's first). */
export function playing(families, model, style) {
  const fams = families.filter((f) => f.model === model && f.plan);
  return fams.find((f) => style && f.styles.includes(style)) || fams[0] || null;
}

/** The tasks of ``model`` (a GET /models row) that its family for ``style`` does. */
export function tasksFor(families, model, style) {
  const fam = playing(families, model.name, style);
  return fam ? model.tasks.filter((t) => fam.tasks.includes(t)) : model.tasks;
}

/** One line: the families (trained networks) that play ``model`` in ``style``. */
export function familyText(families, model, style) {
  const fam = playing(families, model, style);
  if (!fam) return "";
  const parts = families.filter((p) => p.part_of === fam.family);
  return [fam, ...parts].map((x) =>
    `${x.family}${x.weights ? "" : " (no weights)"}: ${x.summary}`).join("; ");
}

/** The part (a role of ``--parts``) a track named ``name`` is in the family that plays
 *  ``model`` in ``style`` (its ``edit_parts``: role -> track name), or null. */
export function editRole(families, model, style, name) {
  const fam = playing(families, model, style);
  const parts = (fam && fam.edit_parts) || {};
  const key = (name || "").trim().toLowerCase();
  return Object.keys(parts).find((r) => parts[r].toLowerCase() === key) || null;
}
