// The playable page: pick a name and a mode, join a room through the JavaScript SDK (served at
// /sdk/game-client.js), steer with the keys or a touch stick, and watch the field: the local
// player where the SDK predicts it, the others where it interpolates them. `window.__play`
// exposes the room, the input pump and what was last drawn, for the browser tests.
import { GameServer } from "/sdk/game-client.js";
import { Intent, steerable } from "/static/play-input.js";
import { InputPump } from "/static/play-pump.js";
import { drawField } from "/static/play-draw.js";
import { logEvent, showFrame, status } from "/static/play-hud.js";
import { entityViews } from "/static/play-world.js";

const el = (id) => document.getElementById(id);
const server = new GameServer(location.origin);
const state = { room: null, generation: 0, bounds: null, seat: null, pump: null, intent: null, drawn: new Map(), frames: 0 };
window.__play = state;

// The modes this server accepts: the `mode` enum of its OpenAPI document (absent when it
// accepts any mode: then the live rooms' modes are the suggestions).
async function suggestModes() {
  let modes = [];
  try {
    const doc = await (await fetch("/openapi.json")).json();
    modes = doc.components?.schemas?.JoinOrCreate?.properties?.mode?.enum ?? [];
    if (modes.length === 0) modes = [...new Set((await server.listRooms()).map((r) => r.mode))];
  } catch (e) {
    console.warn("no mode suggestions:", e.message);
  }
  el("modes").replaceChildren(...modes.map((m) => Object.assign(document.createElement("option"), { value: m })));
  if (modes.length && !modes.includes(el("mode").value)) el("mode").value = modes[0];
}

function nameOf(id) {
  const e = state.views?.find((v) => v.id === id);
  return e?.name ?? "#" + id;
}

function render() {
  const room = state.room;
  if (room) {
    state.views = entityViews(room, state.seat.player_name);
    state.drawn = drawField(el("view"), state.bounds, state.views.filter((v) => v.x !== null),
      state.intent.stick);
    state.frames += 1;
  }
  requestAnimationFrame(render);
}

// The callbacks of the room joined as `generation`: given to the SDK with the join, so that they
// see the first snapshot's events (a coins player's Hello); they fall silent once the page has
// joined another room.
function callbacks(generation) {
  const current = (f) => (...args) => { if (state.generation === generation) f(...args); };
  return {
    frame: current(() => { if (state.room) showFrame(state.room, state.views ?? []); }),
    event: current((ev) => logEvent(ev.name, ev.values, nameOf)),
    resume: current(() => { status("live"); logEvent("resumed", {}, nameOf); }),
    close: current((c) => {
      status("ended");
      el("error").textContent = "disconnected: " + c.name + (c.reason ? " (" + c.reason + ")" : "");
      state.pump?.stop();
    }),
  };
}

async function join(ev) {
  ev.preventDefault();
  el("go").disabled = true;
  el("error").textContent = "";
  status("connecting");
  try {
    state.pump?.stop();
    state.room?.leave();
    state.room = null;
    state.generation += 1;
    el("events").replaceChildren();
    state.seat = await server.joinOrCreate(el("mode").value, { name: el("name").value });
    const room = await server.join(state.seat, { on: callbacks(state.generation) });
    if (!steerable(room.schema)) {
      state.generation += 1; // its close is no news
      room.leave();
      throw new Error(`game ${room.schema.game} takes no move_x/move_y input: this page cannot steer it`);
    }
    state.room = room;
    state.bounds = room.bounds;
    state.pump = new InputPump(room, state.intent);
    status("live");
    const mode = el("mode").value, game = room.schema.game;
    el("title").textContent = "Room #" + room.roomId + " · " + (mode === game ? mode : mode + " · " + game);
    el("view").focus();
  } catch (e) {
    status("error", "ended");
    el("error").textContent = (e.code ? e.code + ": " : "") + e.message;
  } finally {
    el("go").disabled = false; // join again: another room, mode or name
  }
}

state.intent = new Intent(el("view"), () => state.pump?.changed());
el("name").value ||= "player" + Math.floor(Math.random() * 1000);
el("join").addEventListener("submit", join);
suggestModes();
requestAnimationFrame(render);
