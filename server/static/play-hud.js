// The heads-up display: connection figures in the header, and for games that replicate them,
// the scores (a `Score` component, named by `Nameplate`), the round (a `Round` component) and
// the game's events as they arrive.

const el = (id) => document.getElementById(id);
/** Events kept in the log. */
const EVENTS_KEPT = 30;

function setText(id, text) {
  const e = el(id);
  if (e.textContent !== text) e.textContent = text;
}

/** Sets the status line: `connecting`, `live`, `reconnecting`, `ended` or an error. */
export function status(text, cls) {
  setText("status", text);
  el("status").className = cls ?? text;
}

/**
 * Shows the figures of `room` and the scores and round of `entities` (`{id, name, fields}`,
 * fields by `Component.field`), marking the local player's row.
 */
export function showFrame(room, entities) {
  setText("ping", room.pingMs === null ? "–" : Math.round(room.pingMs) + " ms");
  setText("tick", String(room.tick));
  setText("players", String(entities.filter((e) => e.name !== null).length));
  setText("desyncs", String(room.desyncs));
  const scored = entities.filter((e) => "Score.points" in e.fields)
    .sort((a, b) => b.fields["Score.points"] - a.fields["Score.points"] || a.id - b.id);
  el("scores-box").hidden = scored.length === 0;
  const key = JSON.stringify(scored.map((e) => [e.id, e.name, e.fields["Score.points"]]));
  if (el("scores").dataset.key !== key) {
    el("scores").dataset.key = key;
    el("scores").replaceChildren(...scored.map((e) => {
      const tr = document.createElement("tr");
      tr.dataset.id = e.id;
      if (e.id === room.playerId) tr.className = "me";
      for (const text of [e.name ?? "#" + e.id, String(e.fields["Score.points"])]) {
        const td = document.createElement("td"); td.textContent = text; tr.append(td);
      }
      return tr;
    }));
  }
  const round = entities.find((e) => "Round.number" in e.fields);
  el("round-box").hidden = !round;
  if (round) {
    const f = round.fields;
    setText("round", "Round " + f["Round.number"] + ", first to " + f["Round.target"] +
      (f["Round.running"] === false ? " (paused: next round soon)" : ""));
  }
}

/**
 * Adds a game event to the log: its name and fields, with fields that hold a player's id
 * (`player`, `winner`) shown by `nameOf(id)`.
 */
export function logEvent(name, fields, nameOf) {
  const parts = Object.entries(fields).map(([k, v]) =>
    k + " " + (k === "player" || k === "winner" ? nameOf(v) : String(v)));
  const li = document.createElement("li");
  li.textContent = name + (parts.length ? ": " + parts.join(", ") : "");
  li.dataset.event = name;
  el("events-box").hidden = false;
  el("events").prepend(li);
  while (el("events").children.length > EVENTS_KEPT) el("events").lastChild.remove();
}
