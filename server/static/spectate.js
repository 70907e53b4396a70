// Draws a room from its SSE feed, interpolating between updates. Generic over the game: every
// entity with a position is drawn (players, which have a name, as labelled dots; other kinds as
// squares, coloured by kind name), and every entity's replicated fields are listed in one table
// per kind. A room with an interest radius is drawn through a viewport the user drags
// (spectate-viewport.js): the canvas shows the viewport feed of that rectangle at the full
// spectator rate, and an overview in its corner the whole room at the room's lower rate.
import { QUANTA_PER_UNIT, Viewport } from "/static/spectate-viewport.js";

const roomId = location.pathname.split("/").filter(Boolean).pop();
const canvas = document.getElementById("view");
const ctx = canvas.getContext("2d");
const el = (id) => document.getElementById(id);
document.title = "Room #" + roomId;
el("title").textContent = "Room #" + roomId;

// What the canvas draws and the tables list (the viewport's entities in a room with a radius):
// id -> {kind, name, fields, pos: {px, py (previous), x, y (target), t (arrival)} or null}
const entities = new Map();
// The whole room in the overview of a room with a radius: id -> {x, y}.
const overview = new Map();
let world = { width: 10000, height: 10000 };
let interval = 100; // ms between updates, from the feed's rate
let updates = [];
let ended = false;
let legendKey = "";
let viewport = null; // a Viewport, once the room turns out to have an interest radius
let radius = 0; // quanta
let viewFeed = null;

function setStatus(s) { const e = el("status"); e.textContent = s; e.className = s; }

// A stable colour per string (a kind name or an id).
function hue(text) {
  let h = 0;
  for (const c of String(text)) h = (h * 31 + c.codePointAt(0)) % 360;
  return h;
}

// Where an entity is drawn now: between its previous and its target position.
function position(pos, now) {
  const a = Math.min(1, (now - pos.t) / interval);
  return { x: pos.px + (pos.x - pos.px) * a, y: pos.py + (pos.y - pos.py) * a };
}

function moveTo(entity, x, y, now) {
  const cur = entity.pos ? position(entity.pos, now) : { x, y };
  entity.pos = { px: cur.x, py: cur.y, x, y, t: now };
}

// A whole entity from a snapshot or a delta's `spawned`: replaces any of its id.
function place(e, now) {
  const prev = entities.get(e.id);
  const entity = {
    kind: e.kind, name: e.name ?? null, fields: { ...(e.fields ?? {}) },
    pos: e.x === undefined ? null : (prev && prev.pos) || null,
  };
  if (e.x !== undefined) moveTo(entity, e.x, e.y, now);
  entities.set(e.id, entity);
}

function counted(tick) {
  const now = performance.now();
  updates.push(now);
  updates = updates.filter((t) => now - t <= 2000);
  el("rate").textContent = (updates.length / 2).toFixed(1);
  el("tick").textContent = tick;
  el("entities").textContent = viewport ? entities.size + " of " + overview.size : entities.size;
  renderTables();
}

function cell(row, tag, text) {
  const c = document.createElement(tag);
  c.textContent = text;
  row.appendChild(c);
}

function show(v) {
  if (v !== null && typeof v === "object") return "(" + v.x + ", " + v.y + ")";
  return String(v);
}

// One table per kind: id, name (if any entity of the kind has one), then every field.
function renderTables() {
  const kinds = new Map();
  for (const [id, e] of entities) {
    if (!kinds.has(e.kind)) kinds.set(e.kind, []);
    kinds.get(e.kind).push([id, e]);
  }
  const out = [];
  for (const kind of [...kinds.keys()].sort()) {
    const rows = kinds.get(kind);
    const keys = [...new Set(rows.flatMap(([, e]) => Object.keys(e.fields)))].sort();
    const named = rows.some(([, e]) => e.name !== null);
    const section = document.createElement("section");
    section.dataset.kind = kind;
    const title = document.createElement("h2");
    title.textContent = kind + " (" + rows.length + ")";
    section.appendChild(title);
    const table = document.createElement("table");
    const head = document.createElement("tr");
    for (const h of ["id", ...(named ? ["name"] : []), ...keys]) cell(head, "th", h);
    table.appendChild(head);
    for (const [id, e] of rows.sort((a, b) => a[0] - b[0])) {
      const row = document.createElement("tr");
      cell(row, "td", "#" + id);
      if (named) cell(row, "td", e.name ?? "");
      for (const k of keys) {
        const td = document.createElement("td");
        td.textContent = k in e.fields ? show(e.fields[k]) : "";
        td.dataset.field = k;
        row.appendChild(td);
      }
      table.appendChild(row);
    }
    section.appendChild(table);
    out.push(section);
  }
  el("tables").replaceChildren(...out);
}

// The legend: how many entities of each kind the canvas draws, squares in their kind's colour.
function renderLegend(drawn) {
  const key = JSON.stringify([...drawn]);
  if (key === legendKey) return;
  legendKey = key;
  const items = [...drawn].sort().map(([kind, { n, squares }]) => {
    const li = document.createElement("li");
    li.dataset.kind = kind;
    li.dataset.count = n;
    if (squares) li.style.color = "hsl(" + hue(kind) + " 70% 60%)";
    li.textContent = (squares ? "■ " : "● ") + kind + " " + n;
    return li;
  });
  el("legend").replaceChildren(...items);
}

// One SSE feed of the room (the whole room, or the viewport of `query`): its snapshots and
// deltas go to `on`, its state to `status`. It reopens when the browser gives up retrying.
class Feed {
  constructor(query, on, status) {
    this.url = "/api/v1/rooms/" + roomId + "/events" + (query ? "?" + query : "");
    this.on = on;
    this.status = status;
    this.closed = false;
    this.open();
  }

  open() {
    if (ended || this.closed) return;
    const source = (this.source = new EventSource(this.url));
    source.addEventListener("open", () => this.status("live"));
    source.addEventListener("snapshot", (ev) => this.on.snapshot(JSON.parse(ev.data)));
    source.addEventListener("delta", (ev) => this.on.delta(JSON.parse(ev.data)));
    source.addEventListener("end", finish);
    source.addEventListener("error", () => {
      if (ended || this.closed) return;
      this.status("reconnecting");
      if (source.readyState === EventSource.CLOSED) setTimeout(() => this.open(), 1000);
    });
  }

  close() {
    this.closed = true;
    this.source.close();
  }
}

let wholeFeed = null;

// The room closed: every feed stops.
function finish() {
  ended = true;
  wholeFeed.close();
  if (viewFeed) viewFeed.close();
  setStatus("ended");
}

// What the canvas shows: a snapshot replaces everything, a delta updates it.
const shown = {
  snapshot(s) {
    interval = 1000 / Math.max(1, s.update_hz);
    entities.clear();
    const now = performance.now();
    for (const e of s.entities) place(e, now);
    setStatus("live");
    counted(s.tick);
  },
  delta(d) {
    const now = performance.now();
    for (const id of d.despawned) entities.delete(id);
    for (const e of d.spawned) place(e, now);
    for (const m of d.moved) {
      const e = entities.get(m.id);
      if (e) moveTo(e, m.x, m.y, now);
    }
    for (const c of d.changed ?? []) {
      const e = entities.get(c.id);
      if (e) Object.assign(e.fields, c.fields);
    }
    counted(d.tick);
  },
};

// The whole room's positions, for the overview.
const overviewed = {
  snapshot(s) {
    overview.clear();
    for (const e of s.entities) if (e.x !== undefined) overview.set(e.id, { x: e.x, y: e.y });
  },
  delta(d) {
    for (const id of d.despawned) overview.delete(id);
    for (const e of [...d.spawned, ...d.moved]) {
      if (e.x === undefined) overview.delete(e.id);
      else overview.set(e.id, { x: e.x, y: e.y });
    }
  },
};

// The whole-room feed: what the canvas shows in a room without a radius; in a room with one,
// the overview, and the canvas shows the viewport feed instead.
const whole = {
  snapshot(s) {
    world = { width: s.width, height: s.height };
    if (s.interest_radius > 0 && !viewport) {
      radius = s.interest_radius * QUANTA_PER_UNIT;
      viewport = new Viewport(canvas, world, s.interest_radius, watch);
      watch(viewport.query());
    }
    (viewport ? overviewed : shown).snapshot(s);
  },
  delta(d) {
    (viewport ? overviewed : shown).delta(d);
  },
};

// Streams the viewport of `query` (world units) in place of the one streamed so far.
function watch(query) {
  if (ended) return;
  if (viewFeed) viewFeed.close();
  canvas.dataset.viewport = query;
  viewFeed = new Feed(query, shown, setStatus);
}

function connect() {
  wholeFeed = new Feed("", whole, (s) => { if (!viewport) setStatus(s); });
}

// The grid: lines every `step` quanta of the world, over the rectangle `rect` drawn on w × h.
function drawGrid(rect, step, w, h) {
  ctx.fillStyle = "#0b0e14";
  ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = "#1c2330";
  const sx = w / rect.w, sy = h / rect.h;
  for (let x = Math.ceil(rect.x / step) * step; x < rect.x + rect.w; x += step) {
    const px = (x - rect.x) * sx;
    ctx.beginPath(); ctx.moveTo(px, 0); ctx.lineTo(px, h); ctx.stroke();
  }
  for (let y = Math.ceil(rect.y / step) * step; y < rect.y + rect.h; y += step) {
    const py = h - (y - rect.y) * sy;
    ctx.beginPath(); ctx.moveTo(0, py); ctx.lineTo(w, py); ctx.stroke();
  }
}

// The overview in the top right corner: the whole room's positions and the viewport's outline.
function drawOverview(rect, w) {
  const size = w / 4, left = w - size - 8, top = 8;
  const sx = size / world.width, sy = size / world.height;
  ctx.fillStyle = "rgba(11, 14, 20, 0.85)";
  ctx.fillRect(left, top, size, size);
  ctx.strokeStyle = "#2a3242";
  ctx.strokeRect(left, top, size, size);
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, size, size);
  ctx.clip();
  ctx.fillStyle = "#8a93a6";
  for (const p of overview.values()) ctx.fillRect(left + p.x * sx - 1.5, top + size - p.y * sy - 1.5, 3, 3);
  ctx.strokeStyle = "#e6e9ef";
  ctx.strokeRect(left + rect.x * sx, top + size - (rect.y + rect.h) * sy, rect.w * sx, rect.h * sy);
  ctx.restore();
}

function draw() {
  const now = performance.now();
  const w = canvas.width, h = canvas.height;
  const rect = viewport ? viewport.rect : { x: 0, y: 0, w: world.width, h: world.height };
  const sx = w / rect.w, sy = h / rect.h;
  drawGrid(rect, viewport ? radius : world.width / 10, w, h);
  if (viewport) {
    // The world's edges.
    ctx.strokeStyle = "#2a3242";
    ctx.strokeRect(-rect.x * sx, h - (world.height - rect.y) * sy, world.width * sx, world.height * sy);
  }
  ctx.font = "12px system-ui, sans-serif";
  ctx.textAlign = "center";
  const drawn = new Map();
  // Entities without a name first, so that players' dots and labels stay on top.
  const placed = [...entities].filter(([, e]) => e.pos)
    .sort(([, a], [, b]) => (a.name !== null) - (b.name !== null));
  for (const [id, e] of placed) {
    const p = position(e.pos, now);
    const x = (p.x - rect.x) * sx, y = h - (p.y - rect.y) * sy; // y grows upwards in the world
    const count = drawn.get(e.kind) ?? { n: 0, squares: false };
    drawn.set(e.kind, { n: count.n + 1, squares: count.squares || e.name === null });
    if (e.name !== null) {
      ctx.fillStyle = "hsl(" + ((id * 47) % 360) + " 70% 60%)";
      ctx.beginPath(); ctx.arc(x, y, 7, 0, Math.PI * 2); ctx.fill();
      ctx.fillStyle = "#e6e9ef";
      ctx.fillText(e.name, x, y - 11);
    } else {
      ctx.fillStyle = "hsl(" + hue(e.kind) + " 70% 60%)";
      ctx.fillRect(x - 4, y - 4, 8, 8);
    }
  }
  if (viewport) drawOverview(rect, w);
  renderLegend(drawn);
  requestAnimationFrame(draw);
}

connect();
requestAnimationFrame(draw);
