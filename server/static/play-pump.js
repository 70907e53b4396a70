// When the page sends inputs. The server holds a player's last intent until the next input
// (PROTOCOL.md §5.1), so an idle player sends nothing; a change goes out at once, so the SDK
// predicts the move in the same animation frame; while the intent is not zero, one input per
// tick goes out, because the SDK's prediction replays each unacknowledged input as one tick of
// movement; and never more than one per tick, nor more than the message budget allows.

/** Inputs per second the page stays under: PROTOCOL.md §5's default message limit is 60 per
 * second, and the SDK's pings need a share of it. */
const MAX_INPUTS_PER_SECOND = 50;

/** Sends `intent.get()` to `room` by the rules above. */
export class InputPump {
  constructor(room, intent) {
    this.room = room;
    this.intent = intent;
    this.interval = 1000 / Math.min(room.tickRate, MAX_INPUTS_PER_SECOND);
    this.lastAt = -Infinity;
    this.sent = { move_x: 0, move_y: 0 };
    this.timer = null;
    /** The last input's sequence number (0 before the first). */
    this.lastSeq = 0;
    this.stopped = false;
  }

  /** The intent changed: send it now, or when the current tick's input slot frees. */
  changed() {
    if (this.timer !== null || this.stopped) return;
    const wait = this.lastAt + this.interval - performance.now();
    if (wait <= 0) this.fire();
    else this.timer = setTimeout(() => this.fire(), wait);
  }

  fire() {
    this.timer = null;
    if (this.stopped) return;
    const now = this.intent.get();
    const moving = now.move_x !== 0 || now.move_y !== 0;
    if (!moving && now.move_x === this.sent.move_x && now.move_y === this.sent.move_y) return;
    this.lastSeq = this.room.sendInput(now);
    this.sent = now;
    this.lastAt = performance.now();
    if (moving) this.timer = setTimeout(() => this.fire(), this.interval);
  }

  /** Sends nothing more. */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
