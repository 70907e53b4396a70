// What the page draws and lists, read from the SDK's world mirror: every entity as
// `{id, kind, name, x, y, fields, me}`. The local player is where the SDK predicts it, the
// others where it interpolates them; `name` is a player's `Nameplate.name` (or `#id`), null
// for other kinds; `fields` are the replicated fields keyed `Component.field`.

/** The views of every entity of `room`'s world, at animation time `now`. */
export function entityViews(room, now = performance.now()) {
  const views = [];
  for (const e of room.world.entities()) {
    const fields = {};
    for (const [component, values] of Object.entries(e.components ?? {})) {
      for (const [field, value] of Object.entries(values)) fields[component + "." + field] = value;
    }
    const me = e.id === room.playerId;
    const pos = me ? room.predicted() : room.interpolated(e.id, now);
    const player = e.kind === "player";
    views.push({
      id: e.id, kind: e.kind, me, fields,
      name: player ? (fields["Nameplate.name"] ?? "#" + e.id) : null,
      x: pos ? pos.x : null, y: pos ? pos.y : null,
    });
  }
  return views;
}
