"use strict";
const body = document.getElementById("rooms");
function cell(text) { const td = document.createElement("td"); td.textContent = text; return td; }
async function refresh() {
  try {
    const res = await fetch("/api/v1/rooms");
    if (!res.ok) throw new Error("HTTP " + res.status);
    const { rooms } = await res.json();
    body.replaceChildren();
    if (rooms.length === 0) {
      const tr = document.createElement("tr");
      const td = cell("No live rooms right now.");
      td.colSpan = 5; td.className = "empty"; tr.append(td); body.append(tr);
    }
    for (const r of rooms) {
      const tr = document.createElement("tr");
      const link = document.createElement("a");
      link.href = "/spectate/" + r.room_id; link.textContent = "watch"; link.className = "watch";
      const watch = document.createElement("td"); watch.append(link);
      tr.append(cell("#" + r.room_id), cell(r.mode), cell(r.players + " / " + r.capacity), cell(r.tick), watch);
      body.append(tr);
    }
    document.getElementById("updated").textContent = new Date().toLocaleTimeString();
  } catch (e) {
    document.getElementById("updated").textContent = "failed (" + e.message + ")";
  }
}
refresh();
setInterval(refresh, 2000);
