// Draws one frame of the field: a grid, every entity with a position (players as labelled dots,
// the local player ringed, other kinds as squares coloured by kind) and the touch stick.

/** A stable hue per string (a kind name). */
function hue(text) {
  let h = 0;
  for (const c of String(text)) h = (h * 31 + c.codePointAt(0)) % 360;
  return h;
}

function grid(ctx, w, h) {
  ctx.fillStyle = "#0b0e14";
  ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = "#1c2330";
  for (let i = 1; i < 10; i++) {
    ctx.beginPath(); ctx.moveTo((w * i) / 10, 0); ctx.lineTo((w * i) / 10, h); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(0, (h * i) / 10); ctx.lineTo(w, (h * i) / 10); ctx.stroke();
  }
}

function dot(ctx, e, at) {
  ctx.fillStyle = e.me ? "#5ec8f2" : "hsl(" + ((e.id * 47) % 360) + " 55% 55%)";
  ctx.beginPath(); ctx.arc(at.x, at.y, e.me ? 9 : 7, 0, Math.PI * 2); ctx.fill();
  if (e.me) {
    ctx.strokeStyle = "#ffffff"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(at.x, at.y, 13, 0, Math.PI * 2); ctx.stroke();
    ctx.lineWidth = 1;
  }
  ctx.fillStyle = e.me ? "#ffffff" : "#e6e9ef";
  ctx.fillText(e.name, at.x, at.y - 16);
}

function stickRing(ctx, stick) {
  ctx.strokeStyle = "rgba(230, 233, 239, 0.5)";
  ctx.beginPath(); ctx.arc(stick.ox, stick.oy, stick.radius, 0, Math.PI * 2); ctx.stroke();
  ctx.fillStyle = "rgba(230, 233, 239, 0.35)";
  ctx.beginPath(); ctx.arc(stick.ox + stick.dx, stick.oy + stick.dy, 18, 0, Math.PI * 2); ctx.fill();
}

/** Gives `canvas` as many pixels as the screen shows of it, so that text stays sharp on phones;
 * returns the device pixels per CSS pixel. */
function fitToScreen(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const size = Math.round(canvas.clientWidth * ratio);
  if (size > 0 && canvas.width !== size) {
    canvas.width = size;
    canvas.height = size;
  }
  return canvas.clientWidth > 0 ? canvas.width / canvas.clientWidth : 1;
}

/**
 * Draws `entities` (`{id, kind, name (players) or null, x, y (quanta), me}`) on the square
 * `canvas` for a world of `bounds` (quanta); returns where each was drawn, by id, in CSS pixels
 * of the canvas.
 */
export function drawField(canvas, bounds, entities, stick) {
  const ctx = canvas.getContext("2d");
  const ratio = fitToScreen(canvas);
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const w = canvas.width / ratio, h = canvas.height / ratio;
  const sx = w / bounds.width, sy = h / bounds.height;
  grid(ctx, w, h);
  ctx.font = "12px system-ui, sans-serif";
  ctx.textAlign = "center";
  const drawn = new Map();
  // Things first, then others, then the local player, so that players stay on top.
  const order = (e) => (e.me ? 2 : e.name !== null ? 1 : 0);
  for (const e of [...entities].sort((a, b) => order(a) - order(b))) {
    const at = { x: e.x * sx, y: h - e.y * sy }; // y grows upwards in the world
    drawn.set(e.id, at);
    if (e.name !== null) {
      dot(ctx, e, at);
    } else {
      ctx.fillStyle = "hsl(" + hue(e.kind) + " 70% 60%)";
      ctx.fillRect(at.x - 4, at.y - 4, 8, 8);
    }
  }
  if (stick) stickRing(ctx, stick);
  return drawn;
}
