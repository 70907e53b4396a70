// Draws a room from its SSE feed, interpolating between updates. Generic over the game: every
// entity with a position is drawn (players, which have a name, as labelled dots; other kinds as
// squares, coloured by kind name), and every entity's replicated fields are listed in one table
// per kind.
"use strict";
(() => {
  const roomId = location.pathname.split("/").filter(Boolean).pop();
  const canvas = document.getElementById("view");
  const ctx = canvas.getContext("2d");
  const el = (id) => document.getElementById(id);
  document.title = "Room #" + roomId;
  el("title").textContent = "Room #" + roomId;

  // id -> {kind, name, fields, pos: {px, py (previous), x, y (target), t (arrival)} or null}
  const entities = new Map();
  let world = { width: 10000, height: 10000 };
  let interval = 100; // ms between updates, from the feed's rate
  let updates = [];
  let source = null;
  let ended = false;
  let legendKey = "";

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
    el("entities").textContent = entities.size;
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

  function connect() {
    if (ended) return;
    source = new EventSource("/api/v1/rooms/" + roomId + "/events");
    source.addEventListener("open", () => setStatus("live"));
    source.addEventListener("snapshot", (ev) => {
      const s = JSON.parse(ev.data);
      world = { width: s.width, height: s.height };
      interval = 1000 / Math.max(1, s.update_hz);
      entities.clear();
      const now = performance.now();
      for (const e of s.entities) place(e, now);
      setStatus("live");
      counted(s.tick);
    });
    source.addEventListener("delta", (ev) => {
      const d = JSON.parse(ev.data);
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
    });
    source.addEventListener("end", () => {
      ended = true;
      source.close();
      setStatus("ended");
    });
    source.addEventListener("error", () => {
      if (ended) return;
      setStatus("reconnecting");
      // EventSource retries by itself; if it gave up, start a new one.
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 1000);
    });
  }

  function drawGrid(w, h) {
    ctx.fillStyle = "#0b0e14";
    ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = "#1c2330";
    for (let i = 1; i < 10; i++) {
      ctx.beginPath(); ctx.moveTo((w * i) / 10, 0); ctx.lineTo((w * i) / 10, h); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(0, (h * i) / 10); ctx.lineTo(w, (h * i) / 10); ctx.stroke();
    }
  }

  function draw() {
    const now = performance.now();
    const w = canvas.width, h = canvas.height;
    const sx = w / world.width, sy = h / world.height;
    drawGrid(w, h);
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    const drawn = new Map();
    // Entities without a name first, so that players' dots and labels stay on top.
    const placed = [...entities].filter(([, e]) => e.pos)
      .sort(([, a], [, b]) => (a.name !== null) - (b.name !== null));
    for (const [id, e] of placed) {
      const p = position(e.pos, now);
      const x = p.x * sx, y = h - p.y * sy; // y grows upwards in the world
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
    renderLegend(drawn);
    requestAnimationFrame(draw);
  }

  connect();
  requestAnimationFrame(draw);
})();
