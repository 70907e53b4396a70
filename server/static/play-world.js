// What the page draws and lists, read from the SDK's world mirror: every entity as
// `{id, kind, name, x, y, fields, me}`. The local player is where the SDK predicts it, the
// others where it interpolates them; `name` is a player's `Nameplate.name` when the game has
// one (else the local player's seat name, or `#id`), null for other kinds; `fields` are the
// replicated fields keyed `Component.field`.

/** The kind of players' entities (PROTOCOL.md §6.2: built into every game). */
const PLAYER_KIND = "player";

/** The views of every entity of `room`'s world, at animation time `now`; `myName` names the
 * local player when the game replicates no name. */
export function entityViews(room, myName, now = performance.now()) {
  const components = room.schema.components.map((c) => c.name);
  const views = [];
  for (const e of room.world.entities()) {
    const fields = {};
    for (const component of components) {
      const values = e.get(component);
      if (!values) continue;
      for (const [field, value] of Object.entries(values)) fields[component + "." + field] = value;
    }
    const me = e.id === room.playerId;
    const pos = me ? room.predicted() : room.interpolated(e.id, now);
    views.push({
      id: e.id, kind: e.kindName, me, fields,
      name: e.kindName === PLAYER_KIND ? (fields["Nameplate.name"] ?? (me ? myName : "#" + e.id)) : null,
      x: pos ? pos.x : null, y: pos ? pos.y : null,
    });
  }
  return views;
}
