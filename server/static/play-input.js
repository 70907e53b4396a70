// The player's intent from the keyboard (WASD or arrows) and from a virtual stick: a drag on
// the canvas (a finger, a pen or the mouse) steers from where it started. The intent is the
// movement input's `move_x`/`move_y`, each −127 ..= 127; y grows upwards, as in the world.

/** The most an input axis says (PROTOCOL.md §5.1). */
export const AXIS_MAX = 127;
/** How far (CSS pixels) a drag must go from where it started for full speed. */
const STICK_RADIUS = 48;

/** Wire types that hold −127 ..= 127. */
const SIGNED = new Set(["i8", "i16", "i32"]);

/** Whether a game's input (`schema.input`) has the `move_x` and `move_y` this page steers. */
export function steerable(schema) {
  return ["move_x", "move_y"].every((name) => schema.input.some((f) => f.name === name && SIGNED.has(f.type)));
}

const KEYS = {
  KeyW: [0, 1], ArrowUp: [0, 1],
  KeyS: [0, -1], ArrowDown: [0, -1],
  KeyA: [-1, 0], ArrowLeft: [-1, 0],
  KeyD: [1, 0], ArrowRight: [1, 0],
};

/** Keys held and the stick, read as one intent; `onChange` runs when the intent changes. */
export class Intent {
  constructor(canvas, onChange) {
    this.held = new Set();
    this.stick = null; // {id, ox, oy, dx, dy, radius} in CSS pixels while a drag steers
    this.onChange = onChange;
    this.last = { move_x: 0, move_y: 0 };
    window.addEventListener("keydown", (e) => this.key(e, true));
    window.addEventListener("keyup", (e) => this.key(e, false));
    window.addEventListener("blur", () => { this.held.clear(); this.changed(); });
    canvas.addEventListener("pointerdown", (e) => this.press(canvas, e));
    canvas.addEventListener("pointermove", (e) => this.drag(e));
    for (const end of ["pointerup", "pointercancel"]) {
      canvas.addEventListener(end, (e) => this.release(e));
    }
  }

  /** The current intent: `{move_x, move_y}`. */
  get() {
    if (this.stick) {
      const { dx, dy } = this.stick;
      const scale = AXIS_MAX / Math.max(STICK_RADIUS, Math.hypot(dx, dy));
      return { move_x: Math.round(dx * scale), move_y: Math.round(-dy * scale) };
    }
    let x = 0, y = 0;
    for (const code of this.held) { x += KEYS[code][0]; y += KEYS[code][1]; }
    return { move_x: Math.sign(x) * AXIS_MAX, move_y: Math.sign(y) * AXIS_MAX };
  }

  key(e, down) {
    const code = KEYS[e.code] ? e.code : KEYS[e.key] ? e.key : null;
    if (!code || e.target instanceof HTMLInputElement) return;
    e.preventDefault(); // arrows would scroll the page
    if (down) this.held.add(code); else this.held.delete(code);
    this.changed();
  }

  press(canvas, e) {
    canvas.setPointerCapture(e.pointerId);
    this.stick = { id: e.pointerId, ox: e.offsetX, oy: e.offsetY, dx: 0, dy: 0, radius: STICK_RADIUS };
    this.changed();
  }

  drag(e) {
    if (!this.stick || this.stick.id !== e.pointerId) return;
    this.stick.dx = e.offsetX - this.stick.ox;
    this.stick.dy = e.offsetY - this.stick.oy;
    this.changed();
  }

  release(e) {
    if (!this.stick || this.stick.id !== e.pointerId) return;
    this.stick = null;
    this.changed();
  }

  changed() {
    const now = this.get();
    if (now.move_x === this.last.move_x && now.move_y === this.last.move_y) return;
    this.last = now;
    this.onChange(now);
  }
}
