// Draws a room from its SSE feed, interpolating between updates.
"use strict";
(() => {
  const roomId = location.pathname.split("/").filter(Boolean).pop();
  const canvas = document.getElementById("view");
  const ctx = canvas.getContext("2d");
  const el = (id) => document.getElementById(id);
  document.title = "Room #" + roomId;
  el("title").textContent = "Room #" + roomId;

  // id -> {name, px, py (previous), x, y (target), t (time the target arrived)}
  const entities = new Map();
  let world = { width: 10000, height: 10000 };
  let interval = 100; // ms between updates, from the feed's rate
  let updates = [];
  let source = null;
  let ended = false;

  function setStatus(s) { const e = el("status"); e.textContent = s; e.className = s; }

  function place(e, now) {
    const cur = position(entities.get(e.id), now);
    const prev = entities.get(e.id);
    entities.set(e.id, {
      name: e.name ?? (prev && prev.name) ?? ("#" + e.id),
      px: cur ? cur.x : e.x, py: cur ? cur.y : e.y, x: e.x, y: e.y, t: now,
    });
  }

  function position(e, now) {
    if (!e) return null;
    const a = Math.min(1, (now - e.t) / interval);
    return { x: e.px + (e.x - e.px) * a, y: e.py + (e.y - e.py) * a };
  }

  function counted(tick) {
    const now = performance.now();
    updates.push(now);
    updates = updates.filter((t) => now - t <= 2000);
    el("rate").textContent = (updates.length / 2).toFixed(1);
    el("tick").textContent = tick;
    el("players").textContent = entities.size;
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
      for (const m of d.moved) place(m, now);
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

  function draw() {
    const now = performance.now();
    const w = canvas.width, h = canvas.height;
    const sx = w / world.width, sy = h / world.height;
    ctx.fillStyle = "#0b0e14";
    ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = "#1c2330";
    for (let i = 1; i < 10; i++) {
      ctx.beginPath(); ctx.moveTo((w * i) / 10, 0); ctx.lineTo((w * i) / 10, h); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(0, (h * i) / 10); ctx.lineTo(w, (h * i) / 10); ctx.stroke();
    }
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    for (const [id, e] of entities) {
      const p = position(e, now);
      const x = p.x * sx, y = h - p.y * sy; // y grows upwards in the world
      ctx.fillStyle = "hsl(" + ((id * 47) % 360) + " 70% 60%)";
      ctx.beginPath(); ctx.arc(x, y, 7, 0, Math.PI * 2); ctx.fill();
      ctx.fillStyle = "#e6e9ef";
      ctx.fillText(e.name, x, y - 11);
    }
    requestAnimationFrame(draw);
  }

  connect();
  requestAnimationFrame(draw);
})();
