// The spectator page's viewport over a large room: a rectangle of the world (in quanta) that
// the user drags with a mouse or a finger (pointer events), and the query of the viewport feed
// that streams what lies inside it. A drag moves the rectangle at once; the feed is asked for
// the new rectangle when the drag ends, at most once per `throttleMs`.

/** Quanta per world unit (protocol::quant::QUANTA_PER_UNIT; `x` and `y` of the feed's entities are quanta). */
export const QUANTA_PER_UNIT = 100;

/** A viewport's side, in interest radii: a player's whole neighbourhood and some of its surroundings. */
const SIDE_IN_RADII = 4;

export class Viewport {
  /**
   * A square viewport centred on a world of `world` ({width, height} in quanta) for a room whose
   * interest radius is `radius` world units, dragged on `canvas`; `onSettle(query)` is called
   * (throttled) with the feed query of the rectangle where a drag ended.
   */
  constructor(canvas, world, radius, onSettle, throttleMs = 500) {
    const side = Math.min(Math.max(world.width, world.height), SIDE_IN_RADII * radius * QUANTA_PER_UNIT);
    this.world = world;
    this.rect = { x: (world.width - side) / 2, y: (world.height - side) / 2, w: side, h: side };
    this.canvas = canvas;
    this.drag = null;
    this.settle = throttle(() => onSettle(this.query()), throttleMs);
    canvas.classList.add("draggable");
    canvas.addEventListener("pointerdown", (e) => this.start(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    for (const end of ["pointerup", "pointercancel"]) canvas.addEventListener(end, (e) => this.end(e));
  }

  /** The feed query (`x=&y=&w=&h=` in world units) of the rectangle now. */
  query() {
    const units = (q) => (q / QUANTA_PER_UNIT).toFixed(2);
    const { x, y, w, h } = this.rect;
    return "x=" + units(x) + "&y=" + units(y) + "&w=" + units(w) + "&h=" + units(h);
  }

  start(e) {
    this.drag = { id: e.pointerId, x: e.clientX, y: e.clientY, from: { ...this.rect } };
    this.canvas.setPointerCapture(e.pointerId);
    this.canvas.classList.add("dragging");
  }

  // Dragging the world: the rectangle moves against the pointer (y grows upwards), and its
  // centre stays in the world.
  move(e) {
    if (!this.drag || e.pointerId !== this.drag.id) return;
    const box = this.canvas.getBoundingClientRect();
    const { from } = this.drag;
    const dx = ((e.clientX - this.drag.x) * from.w) / box.width;
    const dy = ((e.clientY - this.drag.y) * from.h) / box.height;
    const clamp = (v, size, span) => Math.min(Math.max(v, -size / 2), span - size / 2);
    this.rect.x = clamp(from.x - dx, from.w, this.world.width);
    this.rect.y = clamp(from.y + dy, from.h, this.world.height);
  }

  end(e) {
    if (!this.drag || e.pointerId !== this.drag.id) return;
    this.drag = null;
    this.canvas.classList.remove("dragging");
    this.settle();
  }
}

/** `fn` called at most once per `ms`: a call within `ms` of the last one runs when they are up. */
function throttle(fn, ms) {
  let last = -Infinity;
  let timer = null;
  return () => {
    clearTimeout(timer);
    const wait = last + ms - performance.now();
    const run = () => { last = performance.now(); fn(); };
    if (wait <= 0) run();
    else timer = setTimeout(run, wait);
  };
}
