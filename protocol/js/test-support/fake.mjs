// A scripted stand-in for the server's WebSocket side, so GameRoom's session logic (prediction,
// close codes, resume) runs without a network. Server messages are built with the SDK's Writer
// and checksummed with its Entity.hash, laid out as PROTOCOL.md §6 says.
import { Entity, Writer, decodeSchema } from '../game-client.js';
import { docBlock } from './doc.mjs';

/** The movement game's Schema message of PROTOCOL.md §6.2 (max_speed 34). */
export const MOVEMENT_SCHEMA = docBlock('schema-example-hex');
export const movement = decodeSchema(MOVEMENT_SCHEMA);

/** `Welcome` (PROTOCOL.md §6). */
export function welcome({ playerId = 1, roomId = 1, tickRate = 30, width = 10000, height = 10000, tick = 1, resumeToken = 'r1' } = {}) {
  return new Writer().byte(0).varint(playerId).varint(roomId).varint(tickRate)
    .zigzag(width).zigzag(height).varint(tick).string(resumeToken).finish();
}

/** A movement-game `Snapshot` of players at `positions` ({id: {x, y}}), with its checksum. */
export function snapshot(tick, positions, ack, serverTimeUs = BigInt(tick) * 33000n) {
  const w = new Writer().byte(2).varint(tick).varint(serverTimeUs);
  const ids = Object.keys(positions).map(Number).sort((a, b) => a - b);
  w.varint(ids.length);
  let prev = 0;
  let checksum = 0n;
  for (const id of ids) {
    const { x, y } = positions[id];
    w.varint(id - prev).varint(0).varint(1).zigzag(x).zigzag(y);
    prev = id;
    const e = new Entity(id, 0, movement);
    e.components.set(0, [{ x, y }]);
    checksum += e.hash();
  }
  return w.varint(ack).varint(0).varint(0).varint(checksum & ((1n << 64n) - 1n)).finish();
}

/** `Disconnect{index, reason}`. */
export function disconnect(index, reason) {
  return new Writer().byte(5).varint(index).string(reason).finish();
}

/** Sockets opened by the SDK; `onJoin(socket, joinBytes)` answers each Join. */
export class FakeServer {
  constructor(onJoin) {
    this.sockets = [];
    const server = this;
    this.WebSocket = class {
      constructor(url) {
        this.url = url;
        this.readyState = 0;
        this.sent = [];
        server.sockets.push(this);
        setTimeout(() => {
          this.readyState = 1;
          this.onopen?.({});
        }, 0);
      }

      send(bytes) {
        this.sent.push(Uint8Array.from(bytes));
        if (this.sent.length === 1) onJoin(this, this.sent[0]);
      }

      /** The server sends `bytes`. */
      deliver(bytes) {
        this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
      }

      /** The connection ends with `code` (1006: without a close frame). */
      drop(code, reason = '') {
        if (this.readyState === 3) return;
        this.readyState = 3;
        this.onclose?.({ code, reason });
      }

      close() {
        this.drop(1005);
      }
    };
  }
}
