// @game-server/client: the JavaScript client of the game server, written from
// protocol/PROTOCOL.md (wire format version 3). One ES module with no dependencies: it runs in
// browsers as is and in Node >= 20 (there with the `ws` package as its WebSocket).
//
// Layers, bottom up: primitive codec (PROTOCOL.md §3), schema (§6.2), field values (§6.3),
// frames (§6.4, §6.5), checksum (§7), the world mirror, prediction (§5.1) and interpolation, the
// WebSocket session (GameRoom: join, ping, resume §11, close codes §10) and the REST client
// (GameServer).

/** The wire format this module speaks (`Join.protocol_version`). */
export const PROTOCOL_VERSION = 3;
/** Largest client message in bytes, tag included (PROTOCOL.md §2). */
export const MAX_CLIENT_MESSAGE = 256;
/** Largest server message in bytes (PROTOCOL.md §2). */
export const MAX_SERVER_MESSAGE = 4 * 1024 * 1024;
/** Longest seat or resume token in bytes (PROTOCOL.md §5). */
export const MAX_TOKEN = 64;

/** `CloseCode` names by enum index (PROTOCOL.md §10), as `Disconnect` carries them. */
export const CLOSE_CODE_NAMES = Object.freeze([
  'normal', 'shutdown', 'too_big', 'malformed', 'bad_token', 'version_mismatch',
  'rate_limited', 'room_full', 'kicked', 'lagging', 'join_timeout', 'idle_timeout',
  'room_closed',
]);

/** Every WebSocket close code of PROTOCOL.md §10 mapped to its name. */
export const CloseReason = Object.freeze({
  1000: 'normal', 1001: 'shutdown', 1009: 'too_big', 4000: 'malformed', 4001: 'bad_token',
  4002: 'version_mismatch', 4003: 'rate_limited', 4004: 'room_full', 4005: 'kicked',
  4006: 'lagging', 4007: 'join_timeout', 4008: 'idle_timeout', 4009: 'room_closed',
});

/** Close codes after which the player's entity may still be waiting: the SDK resumes (§11). */
const RESUMABLE = new Set([1005, 1006, 4006, 4008]);

/**
 * The name of a WebSocket close code: its §10 name, `connection_lost` for a connection that
 * ended without a close frame (1005, 1006), otherwise `unknown`.
 */
export function closeReasonName(code) {
  if (CloseReason[code]) return CloseReason[code];
  return code === 1005 || code === 1006 ? 'connection_lost' : 'unknown';
}

// ------------------------------------------------------------------------------------ errors

/** The server sent bytes this client must refuse (PROTOCOL.md §6.4 "Malformed"). */
export class ProtocolError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** A REST call failed: `status` is the HTTP status, `code` and `message` the server's JSON. */
export class ServerError extends Error {
  constructor(status, code, message, retryAfterMs, field) {
    super(message);
    this.name = 'ServerError';
    this.status = status;
    this.code = code;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
    if (field !== undefined) this.field = field;
  }
}

/** A game connection ended (or was refused): the close `code`, its `reasonName` and `reason`. */
export class ConnectionClosedError extends Error {
  constructor(code, reason) {
    const name = closeReasonName(code);
    super(`connection closed: ${code} ${name}${reason ? `: ${reason}` : ''}`);
    this.name = 'ConnectionClosedError';
    this.code = code;
    this.reason = reason;
    this.reasonName = name;
  }
}

// ------------------------------------------------------------------ primitives (PROTOCOL.md §3)

const U64 = (1n << 64n) - 1n;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Reads the primitives of PROTOCOL.md §3 from a byte array; every overrun is a ProtocolError. */
export class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  /** Bytes not read yet. */
  get left() {
    return this.bytes.length - this.pos;
  }

  /** Throws unless `n` more bytes are there. */
  need(n) {
    if (this.left < n) throw new ProtocolError('message ends early');
  }

  /** One byte. */
  byte() {
    this.need(1);
    return this.bytes[this.pos++];
  }

  /** The next `n` bytes. */
  raw(n) {
    this.need(n);
    this.pos += n;
    return this.bytes.subarray(this.pos - n, this.pos);
  }

  /** A varint whose type is `bits` wide (16, 32 or 64), as a BigInt; refuses other prefixes. */
  varintBig(bits) {
    const b = this.byte();
    if (b < 0xfb) return BigInt(b);
    const width = b === 0xfb ? 2 : b === 0xfc ? 4 : b === 0xfd ? 8 : 0;
    if (width === 0 || width * 8 > bits) {
      throw new ProtocolError(`varint prefix 0x${b.toString(16)} not allowed for a ${bits}-bit value`);
    }
    this.need(width);
    const at = this.pos;
    this.pos += width;
    if (width === 2) return BigInt(this.view.getUint16(at, true));
    if (width === 4) return BigInt(this.view.getUint32(at, true));
    return this.view.getBigUint64(at, true);
  }

  /** A `u16` or `u32` varint as a Number. */
  varint(bits) {
    const b = this.bytes[this.pos];
    if (b !== undefined && b < 0xfb) {
      this.pos++;
      return b;
    }
    return Number(this.varintBig(bits));
  }

  /** A `u16` varint. */
  u16() { return this.varint(16); }
  /** A `u32` varint. */
  u32() { return this.varint(32); }
  /** A `u64` varint, as a BigInt. */
  u64() { return this.varintBig(64); }

  /** A zigzag `i16` or `i32` as a Number. */
  zigzag(bits) {
    const n = this.varint(bits);
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  /** A zigzag `i64` as a BigInt. */
  i64() {
    const n = this.u64();
    return (n & 1n) === 0n ? n >> 1n : -((n + 1n) >> 1n);
  }

  /** A byte that must be 0 or 1. */
  bool() {
    const b = this.byte();
    if (b > 1) throw new ProtocolError(`bool byte ${b}`);
    return b === 1;
  }

  /** A list count: refuses one larger than the bytes left (every item takes a byte). */
  count() {
    const n = this.small64();
    if (n > this.left) throw new ProtocolError('list longer than the message');
    return Number(n);
  }

  /** A `u64` varint: a Number when it fits in 32 bits (the common case), else a BigInt. */
  small64() {
    const b = this.bytes[this.pos];
    if (b !== undefined && b < 0xfd) return this.varint(32);
    return this.u64();
  }

  /** A UTF-8 string (invalid UTF-8 refused) of at most `maxLen` bytes. */
  string(maxLen) {
    const n = this.count();
    if (maxLen !== undefined && n > maxLen) {
      throw new ProtocolError(`string of ${n} bytes over its max_len ${maxLen}`);
    }
    try {
      return utf8Strict.decode(this.raw(n));
    } catch (e) {
      if (e instanceof ProtocolError) throw e;
      throw new ProtocolError('invalid UTF-8');
    }
  }

  /** Throws unless every byte was read. */
  end() {
    if (this.left !== 0) throw new ProtocolError(`${this.left} bytes after the message`);
  }
}

/** Writes the primitives of PROTOCOL.md §3 (shortest varint forms). */
export class Writer {
  constructor() {
    this.out = [];
  }

  /** One byte. */
  byte(b) {
    this.out.push(b & 0xff);
    return this;
  }

  /** Bytes as they are. */
  bytes(bs) {
    for (const b of bs) this.out.push(b);
    return this;
  }

  /** An unsigned varint from a Number or a BigInt. */
  varint(v) {
    const n = BigInt(v);
    if (n < 0n || n > U64) throw new RangeError(`varint out of range: ${v}`);
    if (n <= 250n) return this.byte(Number(n));
    const [prefix, width] = n <= 0xffffn ? [0xfb, 2] : n <= 0xffffffffn ? [0xfc, 4] : [0xfd, 8];
    this.byte(prefix);
    for (let i = 0n; i < BigInt(width); i++) this.byte(Number((n >> (8n * i)) & 0xffn));
    return this;
  }

  /** A signed value, zigzagged then varint. */
  zigzag(v) {
    const n = BigInt(v);
    return this.varint(n >= 0n ? 2n * n : -2n * n - 1n);
  }

  /** Varint byte length, then UTF-8. */
  string(s) {
    const b = utf8.encode(s);
    return this.varint(b.length).bytes(b);
  }

  /** The bytes written. */
  finish() {
    return Uint8Array.from(this.out);
  }
}

// ------------------------------------------------------------------------ schema (PROTOCOL.md §6.2)

/** Wire type names by `WireType` index (PROTOCOL.md §6.2). */
export const WIRE_TYPES = Object.freeze(['bool', 'u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'pos', 'str', 'fixed']);

const LIMITS = { components: 64, kinds: 255, events: 255, params: 32, fields: 32 };

function readName(r, what) {
  const name = r.string();
  const len = utf8.encode(name).length;
  if (len < 1 || len > 32) throw new ProtocolError(`${what} name of ${len} bytes`);
  return name;
}

function unique(names, what) {
  if (new Set(names).size !== names.length) throw new ProtocolError(`${what} names repeat`);
}

function readList(r, what, max, item) {
  const n = r.count();
  if (n > max) throw new ProtocolError(`${n} ${what}, at most ${max}`);
  const out = [];
  for (let i = 0; i < n; i++) out.push(item());
  return out;
}

function readFields(r) {
  const fields = readList(r, 'fields', LIMITS.fields, () => {
    const name = readName(r, 'field');
    const index = r.u32();
    const type = WIRE_TYPES[index];
    if (type === undefined) throw new ProtocolError(`unknown wire type ${index}`);
    const field = { name, type };
    if (type === 'str') field.maxLen = r.byte();
    if (type === 'fixed') {
      field.scale = r.u32();
      if (field.scale < 1) throw new ProtocolError('fixed scale 0');
    }
    return field;
  });
  unique(fields.map((f) => f.name), 'field');
  return fields;
}

/**
 * Decodes a `Schema` message (tag 1 first) and checks the rules of PROTOCOL.md §6.2.
 * Params are Numbers (exact below 2^53).
 */
export function decodeSchema(bytes) {
  const r = new Reader(bytes);
  if (r.byte() !== 1) throw new ProtocolError('not a Schema message');
  const game = readName(r, 'game');
  const params = {};
  for (const [name, value] of readList(r, 'params', LIMITS.params, () => [readName(r, 'param'), r.i64()])) {
    if (name in params) throw new ProtocolError('param names repeat');
    params[name] = Number(value);
  }
  const kinds = readList(r, 'kinds', LIMITS.kinds, () => readName(r, 'kind'));
  const components = readList(r, 'components', LIMITS.components, () => ({
    name: readName(r, 'component'), ownerOnly: r.bool(), fields: readFields(r),
  }));
  const input = readFields(r);
  const events = readList(r, 'events', LIMITS.events, () => ({ name: readName(r, 'event'), fields: readFields(r) }));
  r.end();
  unique(kinds, 'kind');
  unique(components.map((c) => c.name), 'component');
  unique(events.map((e) => e.name), 'event');
  const c0 = components[0];
  if (kinds[0] !== 'player' || !c0 || c0.name !== 'Position' || c0.ownerOnly
      || c0.fields.length !== 1 || c0.fields[0].name !== 'pos' || c0.fields[0].type !== 'pos') {
    throw new ProtocolError('schema breaks the rules of PROTOCOL.md §6.2 (kind 0 player, component 0 Position{pos})');
  }
  return { game, params, kinds, components, input, events };
}

// ------------------------------------------------------------------- field values (§6.3)

function readValue(r, field) {
  switch (field.type) {
    case 'bool': return r.bool();
    case 'u8': return r.byte();
    case 'i8': { const b = r.byte(); return b > 127 ? b - 256 : b; }
    case 'u16': return r.u16();
    case 'i16': return r.zigzag(16);
    case 'u32': return r.u32();
    case 'i32': case 'fixed': return r.zigzag(32);
    case 'pos': return { x: r.zigzag(32), y: r.zigzag(32) };
    default: return r.string(field.maxLen);
  }
}

const RANGES = {
  u8: [0, 255], i8: [-128, 127], u16: [0, 0xffff], i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff], i32: [-0x80000000, 0x7fffffff], fixed: [-0x80000000, 0x7fffffff],
};

function writeValue(w, field, value) {
  if (field.type === 'bool') return w.byte(value ? 1 : 0);
  if (field.type === 'pos') {
    checkInt(field, 'i32', value?.x);
    checkInt(field, 'i32', value?.y);
    return w.zigzag(value.x).zigzag(value.y);
  }
  if (field.type === 'str') {
    const b = utf8.encode(String(value));
    if (b.length > field.maxLen) throw new RangeError(`${field.name}: ${b.length} bytes, max_len ${field.maxLen}`);
    return w.varint(b.length).bytes(b);
  }
  const n = typeof value === 'boolean' ? Number(value) : value;
  checkInt(field, field.type, n);
  if (field.type === 'u8' || field.type === 'i8') return w.byte(n);
  if (field.type === 'u16' || field.type === 'u32') return w.varint(n);
  return w.zigzag(n);
}

function checkInt(field, type, n) {
  const [lo, hi] = RANGES[type];
  if (!Number.isInteger(n) || n < lo || n > hi) {
    throw new RangeError(`${field.name}: ${n} is not a ${type} (${lo} ..= ${hi})`);
  }
}

function defaultValue(field) {
  return field.type === 'bool' ? false : field.type === 'pos' ? { x: 0, y: 0 } : field.type === 'str' ? '' : 0;
}

/** Field values as an object by field name; a `fixed` value as `raw / scale`. */
export function fieldsObject(fields, values) {
  const out = {};
  fields.forEach((f, i) => {
    out[f.name] = f.type === 'fixed' ? values[i] / f.scale : values[i];
  });
  return out;
}

// ------------------------------------------------------------------------ client messages (§5)

/** `Join{3, seatToken, resumeToken}`: a seat token, or `''` and a resume token to resume. */
export function encodeJoin(seatToken, resumeToken = null) {
  for (const t of [seatToken, resumeToken ?? '']) {
    if (utf8.encode(t).length > MAX_TOKEN) throw new RangeError(`token longer than ${MAX_TOKEN} bytes`);
  }
  const w = new Writer().byte(0).varint(PROTOCOL_VERSION).string(seatToken);
  if (resumeToken === null || resumeToken === undefined) w.byte(0);
  else w.byte(1).string(resumeToken);
  return w.finish();
}

/**
 * `Input{seq, clientTick, fields}`: one value per field of the schema's `input` list, in order;
 * a field missing from `fields` is sent as 0 / false / ''. Throws a RangeError for a value its
 * type refuses or a message over 256 bytes.
 */
export function encodeInput(schema, seq, clientTick, fields) {
  const w = new Writer().byte(1).varint(seq >>> 0).varint(clientTick >>> 0);
  for (const field of schema.input) writeValue(w, field, fields[field.name] ?? defaultValue(field));
  const bytes = w.finish();
  if (bytes.length > MAX_CLIENT_MESSAGE) throw new RangeError(`input of ${bytes.length} bytes, at most ${MAX_CLIENT_MESSAGE}`);
  return bytes;
}

/** `Ping{clientTimeUs}` (a Number or a BigInt, echoed in `Pong`). */
export function encodePing(clientTimeUs) {
  return new Writer().byte(2).varint(clientTimeUs).finish();
}

/** `Leave`. */
export function encodeLeave() {
  return Uint8Array.of(3);
}

// ------------------------------------------------------------------------ server messages (§6)

function readIds(r, item) {
  const n = r.count();
  let id = 0;
  for (let i = 0; i < n; i++) {
    const gap = r.u32();
    if (i > 0 && gap === 0) throw new ProtocolError('id gap 0');
    id += gap;
    if (id > 0xffffffff) throw new ProtocolError('id past 2^32-1');
    item(id);
  }
}

const MASK_SHARED = 'shared';
const MASK_CHANGED = 'changed';
const MASK_OWNED = 'owned';

/** The bits set in a component mask, low to high. */
function maskBits(mask) {
  const bits = [];
  if (typeof mask === 'number') {
    for (let bit = 0; bit < 32; bit++) if ((mask >>> bit) & 1) bits.push(bit);
  } else {
    for (let bit = 0; bit < 64; bit++) if ((mask >> BigInt(bit)) & 1n) bits.push(bit);
  }
  return bits;
}

function readComponents(r, schema, rule) {
  const comps = new Map();
  for (const bit of maskBits(r.small64())) {
    const def = schema.components[bit];
    if (!def) throw new ProtocolError(`mask bit ${bit} at or above the component count`);
    const allowed = rule === MASK_OWNED ? def.ownerOnly : !def.ownerOnly && (rule !== MASK_CHANGED || bit !== 0);
    if (!allowed) throw new ProtocolError(`mask bit ${bit} (${def.name}) not allowed in ${rule}`);
    comps.set(bit, def.fields.map((f) => readValue(r, f)));
  }
  return comps;
}

function readKind(r, schema) {
  const kind = r.u32();
  if (kind >= schema.kinds.length) throw new ProtocolError(`kind ${kind} unknown`);
  return kind;
}

function readEvents(r, schema) {
  const n = r.count();
  const out = [];
  for (let i = 0; i < n; i++) {
    const index = r.u32();
    const def = schema.events[index];
    if (!def) throw new ProtocolError(`event ${index} unknown`);
    const values = def.fields.map((f) => readValue(r, f));
    out.push({ index, name: def.name, values: fieldsObject(def.fields, values) });
  }
  return out;
}

function readOwnTail(r, schema, frame) {
  frame.owned = [];
  readIds(r, (id) => frame.owned.push({ id, components: readComponents(r, schema, MASK_OWNED) }));
  frame.events = readEvents(r, schema);
  frame.checksum = r.u64();
  r.end();
  return frame;
}

function decodeSnapshot(r, schema) {
  const frame = { type: 'snapshot', tick: r.u32(), serverTimeUs: r.u64(), entities: [] };
  readIds(r, (id) => frame.entities.push({ id, kind: readKind(r, schema), components: readComponents(r, schema, MASK_SHARED) }));
  frame.ack = r.u32();
  return readOwnTail(r, schema, frame);
}

function decodeDelta(r, schema) {
  const frame = { type: 'delta', tick: r.u32(), baseline: r.u32(), serverTimeUs: r.u64(), despawned: [], moved: [], changed: [], spawned: [] };
  readIds(r, (id) => frame.despawned.push(id));
  readIds(r, (id) => frame.moved.push({ id, dx: r.zigzag(32), dy: r.zigzag(32) }));
  readIds(r, (id) => frame.changed.push({ id, components: readComponents(r, schema, MASK_CHANGED) }));
  readIds(r, (id) => frame.spawned.push({ id, kind: readKind(r, schema), components: readComponents(r, schema, MASK_SHARED) }));
  frame.ackAdvance = r.u32();
  return readOwnTail(r, schema, frame);
}

/**
 * An area delta (tag 6, PROTOCOL.md §6.5): `left`, then `pieces` (each a `moved` and a `changed`
 * list, each with its own running sum of gaps, validated like a delta's whether or not the
 * client holds the entities they name), then `entered` (like a delta's `spawned`) and the own part.
 */
function decodeAreaDelta(r, schema) {
  const frame = { type: 'areaDelta', tick: r.u32(), baseline: r.u32(), serverTimeUs: r.u64(), left: [], pieces: [], entered: [] };
  readIds(r, (id) => frame.left.push(id));
  const n = r.count();
  for (let i = 0; i < n; i++) {
    const piece = { moved: [], changed: [] };
    readIds(r, (id) => piece.moved.push({ id, dx: r.zigzag(32), dy: r.zigzag(32) }));
    readIds(r, (id) => piece.changed.push({ id, components: readComponents(r, schema, MASK_CHANGED) }));
    frame.pieces.push(piece);
  }
  readIds(r, (id) => frame.entered.push({ id, kind: readKind(r, schema), components: readComponents(r, schema, MASK_SHARED) }));
  frame.ackAdvance = r.u32();
  return readOwnTail(r, schema, frame);
}

/** Whether a decoded message is a frame: a Snapshot, a Delta or an AreaDelta. */
export function isFrame(msg) {
  return msg.type === 'snapshot' || msg.type === 'delta' || msg.type === 'areaDelta';
}

function decodeWelcome(r) {
  const m = {
    type: 'welcome', playerId: r.u32(), roomId: r.u32(), tickRate: r.u16(),
    bounds: { width: r.zigzag(32), height: r.zigzag(32) }, tick: r.u32(), resumeToken: r.string(),
  };
  r.end();
  return m;
}

/**
 * Decodes one server message (PROTOCOL.md §6) into `{type: 'welcome'|'schema'|'snapshot'|
 * 'delta'|'areaDelta'|'pong'|'disconnect', ...}`. Frames need the room's `schema`. Throws a
 * ProtocolError for malformed bytes.
 */
export function decodeServerMessage(bytes, schema) {
  if (bytes.length > MAX_SERVER_MESSAGE) throw new ProtocolError(`server message of ${bytes.length} bytes`);
  const r = new Reader(bytes);
  const tag = r.byte();
  switch (tag) {
    case 0: return decodeWelcome(r);
    case 1: return { type: 'schema', schema: decodeSchema(bytes) };
    case 2: case 3: case 6:
      if (!schema) throw new ProtocolError('a frame before the schema');
      if (tag === 2) return decodeSnapshot(r, schema);
      return tag === 3 ? decodeDelta(r, schema) : decodeAreaDelta(r, schema);
    case 4: {
      const m = { type: 'pong', clientTimeUs: r.u64(), serverTimeUs: r.u64() };
      r.end();
      return m;
    }
    case 5: {
      const index = r.u32();
      const m = { type: 'disconnect', index, name: CLOSE_CODE_NAMES[index] ?? 'unknown', reason: r.string() };
      r.end();
      return m;
    }
    default: throw new ProtocolError(`unknown server message tag ${tag}`);
  }
}

// ---------------------------------------------------------------------------- checksum (§7)

// The hashes run on 64-bit words held as [hi, lo] pairs of uint32 (Math.imul arithmetic): the
// mirror hashes every changed entity of every frame, and a BigInt mix64 costs several times as
// much. The exported functions take and return BigInts.

/** The high 32 bits of the 64-bit product of two uint32. */
function mulHi32(a, b) {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const t = a1 * b0 + ((a0 * b0) >>> 16);
  const w = (t & 0xffff) + a0 * b1;
  return (a1 * b1 + (t >>> 16) + (w >>> 16)) >>> 0;
}

/** `a * b` modulo 2^64, on pairs. */
function mul64(ah, al, bh, bl) {
  return [(mulHi32(al, bl) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0, Math.imul(al, bl) >>> 0];
}

/** `(a + b)` or, with `sign` -1, `(a - b)` modulo 2^64, on pairs. */
function add64(a, b, sign = 1) {
  const lo = a[1] + sign * b[1];
  const carry = lo > 0xffffffff ? 1 : lo < 0 ? -1 : 0;
  return [(a[0] + sign * b[0] + carry) >>> 0, lo >>> 0];
}

/** splitmix64's finalizer on a pair. */
function mixPair(hi, lo) {
  lo = (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0;
  hi = (hi ^ (hi >>> 30)) >>> 0;
  [hi, lo] = mul64(hi, lo, 0xbf58476d, 0x1ce4e5b9);
  lo = (lo ^ ((lo >>> 27) | (hi << 5))) >>> 0;
  hi = (hi ^ (hi >>> 27)) >>> 0;
  [hi, lo] = mul64(hi, lo, 0x94d049bb, 0x133111eb);
  lo = (lo ^ ((lo >>> 31) | (hi << 1))) >>> 0;
  hi = (hi ^ (hi >>> 31)) >>> 0;
  return [hi, lo];
}

/** FNV-1a 64 of bytes, as a pair. */
function fnvPair(bytes) {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const b of bytes) [hi, lo] = mul64(hi, (lo ^ b) >>> 0, 0x100, 0x1b3);
  return [hi, lo];
}

/** The checksum word of a field value (§6.3), as a pair. */
function wordPair(type, value) {
  if (type === 'pos') return [value.y >>> 0, value.x >>> 0];
  if (type === 'str') return fnvPair(utf8.encode(value));
  if (type === 'bool') return [0, value ? 1 : 0];
  return [value < 0 ? 0xffffffff : 0, value >>> 0];
}

/** `component_hash(id, index, words)` with the words as pairs. */
function componentPair(id, index, words) {
  let h = mixPair(256 + index, id);
  for (const [wh, wl] of words) h = mixPair((h[0] ^ wh) >>> 0, (h[1] ^ wl) >>> 0);
  return h;
}

const toBig = ([hi, lo]) => (BigInt(hi) << 32n) | BigInt(lo);
const fromBig = (z) => [Number((z >> 32n) & 0xffffffffn), Number(z & 0xffffffffn)];

/** The splitmix64 finalizer (PROTOCOL.md §7). */
export function mix64(z) {
  return toBig(mixPair(...fromBig(z & U64)));
}

/** 64-bit FNV-1a of a byte array. */
export function fnv1a64(bytes) {
  return toBig(fnvPair(bytes));
}

/** `entity_hash(id, kind)` of §7. */
export function entityHash(id, kind) {
  return toBig(mixPair(kind, id));
}

/** `component_seed(id, index)` of §7. */
export function componentSeed(id, index) {
  return toBig(mixPair(256 + index, id));
}

/** `component_hash(id, index, words)` of §7; `words` are BigInts. */
export function componentHash(id, index, words) {
  return toBig(componentPair(id, index, words.map((w) => fromBig(w & U64))));
}

/** The checksum word of a field value (§6.3) as a BigInt. */
export function fieldWord(type, value) {
  return toBig(wordPair(type, value));
}

// ------------------------------------------------------------------------------ world mirror

/** An entity of the mirror: its id, kind and components (values by component index). */
export class Entity {
  constructor(id, kind, schema) {
    this.id = id;
    this.kind = kind;
    this.schema = schema;
    /** @type {Map<number, any[]>} field values by component index, in schema order. */
    this.components = new Map();
  }

  /** The kind's name. */
  get kindName() {
    return this.schema.kinds[this.kind];
  }

  /** Component 0's position in quanta, or null. */
  get pos() {
    return this.components.get(0)?.[0] ?? null;
  }

  /** A component by name as `{field: value}` (fixed fields as raw / scale), or undefined. */
  get(name) {
    const index = this.schema.components.findIndex((c) => c.name === name);
    const values = this.components.get(index);
    return values && fieldsObject(this.schema.components[index].fields, values);
  }

  /** This entity's checksum terms summed (§7). */
  hash() {
    return toBig(this.hashPair());
  }

  /** {@link Entity#hash} as a [hi, lo] pair. */
  hashPair() {
    let h = mixPair(this.kind, this.id);
    for (const [index, values] of this.components) {
      const fields = this.schema.components[index].fields;
      h = add64(h, componentPair(this.id, index, values.map((v, i) => wordPair(fields[i].type, v))));
    }
    return h;
  }
}

const samePair = (a, b) => a[0] === b[0] && a[1] === b[1];

/**
 * The world as this client holds it (PROTOCOL.md §6.4, §9): frames applied in order, the
 * checksum of §7 kept per entity and verified on every frame.
 */
export class WorldMirror {
  constructor(schema) {
    this.schema = schema;
    /** @type {Map<number, Entity>} */
    this.byId = new Map();
    this.hashes = new Map();
    this.sum = [0, 0];
    /** The last input seq the server applied for this player. */
    this.ack = 0;
    /** The tick the mirror holds (null before the first snapshot). */
    this.tick = null;
    /** Server time of the held tick, in microseconds since the Unix epoch (BigInt). */
    this.serverTimeUs = 0n;
    /** False after a desync, until the next snapshot. */
    this.valid = false;
  }

  /** Wrapping 64-bit sum of the held entities' hashes (§7). */
  get checksum() {
    return toBig(this.sum);
  }

  /** The entity with `id`, or undefined. */
  get(id) {
    return this.byId.get(id);
  }

  /** Every held entity. */
  entities() {
    return [...this.byId.values()];
  }

  /**
   * Decodes a Snapshot, Delta or AreaDelta message and applies it; see
   * {@link WorldMirror#applyFrame}.
   */
  apply(bytes) {
    const frame = decodeServerMessage(bytes, this.schema);
    if (!isFrame(frame)) throw new ProtocolError(`not a frame: ${frame.type}`);
    return this.applyFrame(frame);
  }

  /**
   * Applies a decoded frame. Returns `{type, tick, serverTimeUs, ack, events, spawned, changed,
   * despawned, skipped, desync}`: `changed` lists `{id, components}` (component indices) of held
   * entities that stayed; `despawned` also holds an area delta's `left`, `spawned` its
   * `entered`; `skipped` counts the piece entries of an area delta naming entities the mirror
   * does not hold (§6.5: read, validated, not applied); `desync` is null or why the mirror is
   * not the server's world (then it stays invalid until a snapshot).
   */
  applyFrame(frame) {
    const result = { type: frame.type, tick: frame.tick, serverTimeUs: frame.serverTimeUs, events: frame.events, spawned: [], changed: [], despawned: [], skipped: 0, desync: null };
    const problems = [];
    const touched = new Map();
    const touch = (id, index) => {
      if (!touched.has(id)) touched.set(id, new Set());
      if (index !== undefined) touched.get(id).add(index);
    };
    if (frame.type === 'snapshot') {
      this.applySnapshot(frame, result, problems);
      this.ack = frame.ack;
    } else {
      if (this.tick === null) problems.push('a delta before any snapshot');
      else if (frame.baseline !== this.tick) problems.push(`baseline ${frame.baseline}, the mirror holds ${this.tick}`);
      else if (!this.valid) problems.push('the mirror is invalid since an earlier desync');
      else {
        if (frame.type === 'areaDelta') this.applyArea(frame, result, problems, touch);
        else this.applyDelta(frame, result, problems, touch);
        this.applyOwned(frame.owned, problems, touch);
      }
      this.ack = (this.ack + frame.ackAdvance) >>> 0;
    }
    for (const [id, indices] of touched) {
      if (!this.byId.has(id)) continue;
      this.rehash(id);
      if (!result.spawned.includes(id)) result.changed.push({ id, components: [...indices] });
    }
    this.tick = frame.tick;
    this.serverTimeUs = frame.serverTimeUs;
    const checksum = this.checksum;
    if (problems.length === 0 && frame.checksum !== checksum) {
      problems.push(`checksum of tick ${frame.tick} differs: got 0x${frame.checksum.toString(16)}, mirror 0x${checksum.toString(16)}`);
    }
    this.valid = problems.length === 0;
    result.ack = this.ack;
    result.desync = problems.length ? problems.join('; ') : null;
    return result;
  }

  applySnapshot(frame, result, problems) {
    const old = this.hashes;
    this.byId = new Map();
    this.hashes = new Map();
    this.sum = [0, 0];
    for (const item of frame.entities) {
      const e = new Entity(item.id, item.kind, this.schema);
      e.components = item.components;
      this.byId.set(item.id, e);
    }
    for (const { id, components } of frame.owned) {
      const e = this.byId.get(id);
      if (!e) problems.push(`owned ${id} is not in the snapshot`);
      else for (const [index, values] of components) e.components.set(index, values);
    }
    for (const id of old.keys()) if (!this.byId.has(id)) result.despawned.push(id);
    for (const id of this.byId.keys()) {
      this.rehash(id);
      if (!old.has(id)) result.spawned.push(id);
      else if (!samePair(old.get(id), this.hashes.get(id))) result.changed.push({ id, components: [...this.byId.get(id).components.keys()] });
    }
  }

  /** §6.4 "Apply", steps 2 to 5. */
  applyDelta(frame, result, problems, touch) {
    for (const id of frame.despawned) this.removeHeld(id, 'despawned', result, problems);
    for (const m of frame.moved) this.move(m, problems, touch);
    for (const c of frame.changed) this.change(c, problems, touch);
    for (const item of frame.spawned) this.insert(item, 'spawned', result, problems, touch);
  }

  /**
   * §6.5 "Apply", steps 2 to 4: `left`, then each piece's `moved` and `changed` entries of held
   * entities (the others are skipped), then `entered`.
   */
  applyArea(frame, result, problems, touch) {
    for (const id of frame.left) this.removeHeld(id, 'left', result, problems);
    for (const piece of frame.pieces) {
      for (const m of piece.moved) {
        if (this.byId.has(m.id)) this.move(m, problems, touch);
        else result.skipped++;
      }
      for (const c of piece.changed) {
        if (this.byId.has(c.id)) this.change(c, problems, touch);
        else result.skipped++;
      }
    }
    for (const item of frame.entered) this.insert(item, 'entered', result, problems, touch);
  }

  removeHeld(id, list, result, problems) {
    if (!this.byId.has(id)) problems.push(`${list} ${id} is not held`);
    else this.remove(id, result);
  }

  move({ id, dx, dy }, problems, touch) {
    const e = this.byId.get(id);
    const values = e?.components.get(0);
    if (!values) {
      problems.push(e ? `moved ${id} has no position` : `moved ${id} is not held`);
      return;
    }
    values[0] = { x: (values[0].x + dx) | 0, y: (values[0].y + dy) | 0 };
    touch(id, 0);
  }

  change({ id, components }, problems, touch) {
    const e = this.byId.get(id);
    if (!e) {
      problems.push(`changed ${id} is not held`);
      return;
    }
    const missing = [...components.keys()].filter((i) => !e.components.has(i));
    if (missing.length) {
      problems.push(`changed ${id} names component ${missing.join(', ')} it does not have`);
      return;
    }
    for (const [index, values] of components) {
      e.components.set(index, values);
      touch(id, index);
    }
  }

  insert(item, list, result, problems, touch) {
    if (this.byId.has(item.id)) {
      problems.push(`${list} ${item.id} is already held`);
      return;
    }
    const e = new Entity(item.id, item.kind, this.schema);
    e.components = item.components;
    this.byId.set(item.id, e);
    result.spawned.push(item.id);
    touch(item.id);
  }

  applyOwned(owned, problems, touch) {
    for (const { id, components } of owned) {
      const e = this.byId.get(id);
      if (!e) {
        problems.push(`owned ${id} unknown`);
        continue;
      }
      for (const [index, values] of components) {
        e.components.set(index, values);
        touch(id, index);
      }
    }
  }

  remove(id, result) {
    this.sum = add64(this.sum, this.hashes.get(id), -1);
    this.hashes.delete(id);
    this.byId.delete(id);
    result.despawned.push(id);
  }

  rehash(id) {
    const h = this.byId.get(id).hashPair();
    this.sum = add64(add64(this.sum, this.hashes.get(id) ?? [0, 0], -1), h);
    this.hashes.set(id, h);
  }
}

// ------------------------------------------------------------------- prediction (§5.1, §6.4)

/**
 * The movement rule of PROTOCOL.md §5.1: the velocity of an intent, in quanta per tick, from
 * `move_x`, `move_y` and the schema parameter `max_speed`.
 */
export function intentVelocity(moveX, moveY, maxSpeed) {
  const x = Math.max(moveX, -127);
  const y = Math.max(moveY, -127);
  const lenSq = x * x + y * y;
  if (lenSq <= 127 * 127) return { x: Math.trunc((x * maxSpeed) / 127), y: Math.trunc((y * maxSpeed) / 127) };
  const scale = maxSpeed / Math.sqrt(lenSq);
  return { x: Math.trunc(x * scale), y: Math.trunc(y * scale) };
}

/**
 * The default predictor: one tick of the movement rule (§5.1) for one input, clamped to the
 * world's bounds. `ctx` is `{maxSpeed, bounds: {width, height}}`.
 */
export function movementPredictor(pos, input, ctx) {
  const v = intentVelocity(Number(input.move_x ?? 0), Number(input.move_y ?? 0), ctx.maxSpeed);
  return {
    x: Math.min(Math.max(pos.x + v.x, 0), ctx.bounds.width),
    y: Math.min(Math.max(pos.y + v.y, 0), ctx.bounds.height),
  };
}

/**
 * The predicted position: `serverPos` with every input of `pending` whose seq is above `ack`
 * applied in order by `predict` (each input stands for one tick).
 */
export function replayInputs(serverPos, pending, ack, predict, ctx) {
  let pos = serverPos;
  for (const input of pending) if (input.seq > ack) pos = predict(pos, input.fields, ctx);
  return pos;
}

// ---------------------------------------------------------------------------- interpolation

/**
 * Positions of entities over server time, rendered `delayMs` in the past. The client's clock is
 * mapped to server time by the frames' `server_time_us`: the offset is the largest
 * (server time − receive time) of the recent frames (the least delayed one).
 */
export class Interpolator {
  constructor({ delayMs = 100, historyMs = 1000, clockWindow = 64 } = {}) {
    this.delayMs = delayMs;
    this.historyMs = historyMs;
    this.clockWindow = clockWindow;
    this.offsets = [];
    /** server time (ms) − local time (ms); null before the first frame. */
    this.offsetMs = null;
    /** @type {Map<number, {t: number, x: number, y: number}[]>} */
    this.samples = new Map();
  }

  /** Records one frame's server time against the local time it arrived. */
  observeClock(serverTimeMs, localMs) {
    this.offsets.push(serverTimeMs - localMs);
    if (this.offsets.length > this.clockWindow) this.offsets.shift();
    this.offsetMs = Math.max(...this.offsets);
  }

  /** Adds a position of entity `id` at server time `serverTimeMs`; drops samples too old. */
  push(id, serverTimeMs, pos) {
    let list = this.samples.get(id);
    if (!list) this.samples.set(id, (list = []));
    const last = list[list.length - 1];
    if (last && last.t >= serverTimeMs) list.pop();
    list.push({ t: serverTimeMs, x: pos.x, y: pos.y });
    while (list.length > 2 && list[0].t < serverTimeMs - this.historyMs) list.shift();
  }

  /** Forgets entity `id`. */
  forget(id) {
    this.samples.delete(id);
  }

  /** The position of `id` at server time `serverTimeMs`: linear between samples, clamped to the ends. */
  at(id, serverTimeMs) {
    const list = this.samples.get(id);
    if (!list || list.length === 0) return null;
    if (serverTimeMs <= list[0].t) return { x: list[0].x, y: list[0].y };
    const last = list[list.length - 1];
    if (serverTimeMs >= last.t) return { x: last.x, y: last.y };
    let i = 1;
    while (list[i].t < serverTimeMs) i++;
    const a = list[i - 1];
    const b = list[i];
    const f = (serverTimeMs - a.t) / (b.t - a.t);
    return { x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f };
  }

  /** The position of `id` to draw at local time `nowMs`: server time `nowMs + offset − delay`. */
  render(id, nowMs) {
    if (this.offsetMs === null) return null;
    return this.at(id, nowMs + this.offsetMs - this.delayMs);
  }
}

// ------------------------------------------------------------------------- the game session

const DEFAULTS = Object.freeze({
  timeoutMs: 10000, pingIntervalMs: 1000, resumeWithinMs: 10000, silenceMs: 5000,
  interpolationDelayMs: 100, maxPending: 256,
});

const nowMs = () => globalThis.performance.now();

function webSocketClass(opts) {
  const WS = opts?.WebSocket ?? globalThis.WebSocket;
  if (!WS) throw new Error('no WebSocket: pass opts.WebSocket (in Node < 22, the `ws` package)');
  return WS;
}

function toBytes(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new ProtocolError('a text message (the protocol is binary)');
}

/**
 * Opens a WebSocket to `url`, sends `join` and reads Welcome, Schema and the first Snapshot.
 * Resolves `{ws, welcome, schema, snapshot, inbox}`: messages (`{data}`) and the close event
 * (`{close}`) arriving later wait in `inbox` until the caller takes the socket over.
 */
function handshake(WS, url, join, timeoutMs) {
  return new Promise((resolve, reject) => {
    const ws = new WS(url, [], { maxPayload: MAX_SERVER_MESSAGE });
    ws.binaryType = 'arraybuffer';
    let welcome = null;
    let schema = null;
    let disconnect = null;
    let done = false;
    const fail = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try { ws.close(); } catch { /* already closing */ }
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`no Welcome, Schema and Snapshot within ${timeoutMs} ms`)), timeoutMs);
    ws.onopen = () => ws.send(join);
    ws.onerror = () => {};
    ws.onclose = (ev) => fail(new ConnectionClosedError(disconnect ? codeOfIndex(disconnect.index) : ev.code, disconnect?.reason ?? ev.reason));
    ws.onmessage = (ev) => {
      try {
        const bytes = toBytes(ev.data);
        const msg = decodeServerMessage(bytes, schema);
        if (msg.type === 'disconnect') disconnect = msg;
        else if (!welcome) {
          if (msg.type !== 'welcome') throw new ProtocolError(`expected Welcome, got ${msg.type}`);
          welcome = msg;
        } else if (!schema) {
          if (msg.type !== 'schema') throw new ProtocolError(`expected Schema, got ${msg.type}`);
          schema = msg.schema;
        } else if (msg.type === 'snapshot' && msg.tick === welcome.tick) {
          done = true;
          clearTimeout(timer);
          const inbox = [];
          ws.onmessage = (e) => inbox.push({ data: e.data });
          ws.onclose = (e) => inbox.push({ close: e });
          resolve({ ws, welcome, schema, snapshot: msg, inbox });
        } else if (msg.type !== 'pong') {
          throw new ProtocolError('the first frame is not a Snapshot of the Welcome tick');
        }
      } catch (err) {
        fail(err);
      }
    };
  });
}

function codeOfIndex(index) {
  const name = CLOSE_CODE_NAMES[index];
  const entry = Object.entries(CloseReason).find(([, n]) => n === name);
  return entry ? Number(entry[0]) : 4000;
}

/**
 * A joined game room over one WebSocket (replaced on resume): the mirror, inputs with
 * prediction, interpolation of the others, ping and callbacks. Made by {@link GameServer#join}.
 */
export class GameRoom {
  constructor(WS, url, conn, opts) {
    this.WS = WS;
    this.url = url;
    this.opts = { ...DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
    this.listeners = new Map();
    this.playerId = conn.welcome.playerId;
    this.roomId = conn.welcome.roomId;
    this.tickRate = conn.welcome.tickRate;
    this.bounds = conn.welcome.bounds;
    this.schema = conn.schema;
    this.world = new WorldMirror(conn.schema);
    this.interp = new Interpolator({ delayMs: this.opts.interpolationDelayMs });
    this.tick = conn.welcome.tick;
    /** Round trip of the last Ping, in ms (null before the first Pong). */
    this.pingMs = null;
    this.desyncs = 0;
    this.resumes = 0;
    this.pending = [];
    this.seq = 0;
    this.inDesync = false;
    this.closed = false;
    this.leaving = false;
    this.predict = this.opts.predict ?? (this.hasMovement() ? movementPredictor : null);
    // Callbacks given to join() see the first snapshot too (its spawns and events).
    for (const [event, cb] of Object.entries(this.opts.on ?? {})) this.on(event, cb);
    this.adopt(conn);
    this.pingTimer = setInterval(() => this.ping(), this.opts.pingIntervalMs);
    this.watchdog = setInterval(() => this.checkSilence(), Math.max(100, this.opts.silenceMs / 4));
  }

  hasMovement() {
    const names = new Set(this.schema.input.map((f) => f.name));
    return names.has('move_x') && names.has('move_y') && Number.isFinite(this.schema.params.max_speed);
  }

  /**
   * Registers `cb` for `event` from the next frame on (`JoinOptions.on` also sees the first
   * snapshot); returns a function that removes it.
   */
  on(event, cb) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(cb);
    return () => this.listeners.get(event)?.delete(cb);
  }

  emit(event, ...args) {
    for (const cb of this.listeners.get(event) ?? []) {
      try {
        cb(...args);
      } catch (err) {
        console.error(`game-client: a '${event}' callback threw`, err);
      }
    }
  }

  /** Takes a connection over: its socket, its resume token and its first snapshot. */
  adopt(conn) {
    this.ws = conn.ws;
    this.resumeToken = conn.welcome.resumeToken;
    this.schema = conn.schema;
    this.world.schema = conn.schema;
    this.lastHeard = nowMs();
    this.disconnect = null;
    this.onFrame(conn.snapshot);
    this.ws.onmessage = (e) => this.onMessage(e.data);
    this.ws.onclose = (e) => this.onClose(e.code, e.reason);
    for (const item of conn.inbox) {
      if (item.close) this.onClose(item.close.code, item.close.reason);
      else this.onMessage(item.data);
    }
  }

  onMessage(data) {
    if (this.closed) return;
    this.lastHeard = nowMs();
    let msg;
    try {
      msg = decodeServerMessage(toBytes(data), this.schema);
    } catch (err) {
      this.finish(4000, `malformed: ${err.message}`);
      return;
    }
    if (isFrame(msg)) this.onFrame(msg);
    else if (msg.type === 'pong') this.pingMs = nowMs() - Number(msg.clientTimeUs) / 1000;
    else if (msg.type === 'disconnect') this.disconnect = msg;
  }

  onFrame(frame) {
    const result = this.world.applyFrame(frame);
    this.tick = result.tick;
    if (result.desync) {
      this.desyncs++;
      if (!this.inDesync) console.warn(`game-client: desync (${result.desync}); waiting for the next snapshot`);
      this.inDesync = true;
      this.emit('desync', result);
    } else {
      this.inDesync = false;
    }
    this.pending = this.pending.filter((i) => i.seq > result.ack);
    this.track(result);
    for (const id of result.despawned) this.emit('despawn', id);
    for (const id of result.spawned) this.emit('spawn', this.world.get(id));
    for (const c of result.changed) this.emit('change', this.world.get(c.id), c.components);
    for (const ev of result.events) this.emit('event', ev);
    this.emit('frame', result);
  }

  /** Feeds the interpolation buffers with this frame's positions. */
  track(result) {
    const t = Number(result.serverTimeUs) / 1000;
    this.interp.observeClock(t, nowMs());
    for (const id of result.despawned) this.interp.forget(id);
    for (const e of this.world.byId.values()) {
      const pos = e.pos;
      if (pos) this.interp.push(e.id, t, pos);
    }
  }

  /**
   * Sends one Input with the next seq (from 1) and keeps it for prediction until acknowledged.
   * Each input stands for one tick: send at most one per tick (e.g. from the 'frame' callback).
   * Returns the seq, or 0 when the room is closed.
   */
  sendInput(fields) {
    if (this.closed) return 0;
    const seq = ++this.seq;
    const bytes = encodeInput(this.schema, seq, this.tick ?? 0, fields);
    this.pending.push({ seq, fields: { ...fields }, bytes });
    if (this.pending.length > this.opts.maxPending) this.pending.shift();
    this.send(bytes);
    return seq;
  }

  send(bytes) {
    if (this.ws.readyState === 1) this.ws.send(bytes);
  }

  /** The local player's predicted position in quanta (the server's when nothing predicts), or null. */
  predicted() {
    const pos = this.world.get(this.playerId)?.pos;
    if (!pos) return null;
    if (!this.predict) return { x: pos.x, y: pos.y };
    const ctx = { maxSpeed: this.schema.params.max_speed, bounds: this.bounds, schema: this.schema, playerId: this.playerId };
    return replayInputs({ x: pos.x, y: pos.y }, this.pending, this.world.ack, this.predict, ctx);
  }

  /** Entity `id`'s position at server time (now − interpolation delay), or null. */
  interpolated(id, now = nowMs()) {
    return this.interp.render(id, now);
  }

  ping() {
    if (!this.closed) this.send(encodePing(Math.round(nowMs() * 1000)));
  }

  /** Frames arrive every tick: a silent socket is a dead network; drop it and resume. */
  checkSilence() {
    if (this.closed || this.resuming || nowMs() - this.lastHeard < this.opts.silenceMs) return;
    const ws = this.ws;
    ws.onclose = null;
    ws.onmessage = null;
    try { ws.close(); } catch { /* already closed */ }
    this.onClose(1006, 'no message within the silence timeout');
  }

  onClose(code, reason) {
    if (this.closed) return;
    const d = this.disconnect;
    const finalCode = d ? codeOfIndex(d.index) : code;
    const finalReason = d ? d.reason : reason;
    if (!this.leaving && RESUMABLE.has(finalCode) && this.resumeToken) {
      this.resume(finalCode, finalReason);
    } else {
      this.finish(finalCode, finalReason);
    }
  }

  /** Resumes on new connections until one succeeds or the grace period has passed (§11). */
  async resume(code, reason) {
    if (this.resuming) return;
    this.resuming = true;
    const deadline = nowMs() + this.opts.resumeWithinMs;
    let last = new ConnectionClosedError(code, reason);
    for (let attempt = 0; nowMs() < deadline && !this.closed; attempt++) {
      try {
        const conn = await handshake(this.WS, this.url, encodeJoin('', this.resumeToken), Math.min(this.opts.timeoutMs, Math.max(1, deadline - nowMs())));
        if (this.closed) {
          conn.ws.close();
          return;
        }
        this.resuming = false;
        this.resumes++;
        this.adopt(conn);
        // The newest input restores the intent; older ones would only spend the rate limit
        // (its ack drops them from prediction anyway).
        this.pending = this.pending.slice(-1);
        for (const input of this.pending) this.send(input.bytes);
        this.emit('resume', { resumes: this.resumes, after: { code, reason, name: closeReasonName(code) } });
        return;
      } catch (err) {
        last = err;
        if (err instanceof ConnectionClosedError && !RESUMABLE.has(err.code)) break;
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 2000)));
      }
    }
    this.resuming = false;
    const finalCode = last instanceof ConnectionClosedError ? last.code : code;
    this.finish(finalCode, last instanceof ConnectionClosedError ? last.reason : String(last.message ?? reason));
  }

  /** Ends the room: closes the socket (with `code` when it is one a client may send) and emits 'close'. */
  finish(code, reason) {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    clearInterval(this.watchdog);
    clearTimeout(this.leaveTimer);
    try {
      if (code >= 4000 && code <= 4999) this.ws.close(code, CloseReason[code] ?? '');
      else this.ws.close();
    } catch { /* already closed */ }
    this.emit('close', { code, reason, name: closeReasonName(code) });
  }

  /** Sends Leave; the server closes with 1000 (`normal`), then 'close' fires. */
  leave() {
    if (this.closed || this.leaving) return;
    this.leaving = true;
    this.send(encodeLeave());
    this.leaveTimer = setTimeout(() => this.finish(1000, 'left'), 2000);
  }
}

// ------------------------------------------------------------------------------ the REST API

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Largest REST response body read, in bytes. */
const MAX_REST_BODY = 1024 * 1024;

/** The REST API of the server (its `/openapi.json`) and the door to its game rooms. */
export class GameServer {
  constructor(baseUrl, opts = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.WebSocket = opts.WebSocket;
    this.timeoutMs = opts.timeoutMs ?? 10000;
    this.maxRetries = opts.maxRetries ?? 3;
    this.maxRetryWaitMs = opts.maxRetryWaitMs ?? 10000;
  }

  /** One REST call: JSON in and out; a 429 waits Retry-After and retries (bounded). */
  async request(method, path, body, headers = {}) {
    for (let attempt = 0; ; attempt++) {
      const res = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (res.status === 204) return undefined;
      const text = await readBody(res, MAX_REST_BODY);
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: reported below */ }
      if (res.ok) return json;
      const retryAfterMs = retryAfter(res.headers.get('retry-after'));
      if (res.status === 429 && attempt < this.maxRetries && retryAfterMs !== undefined && retryAfterMs <= this.maxRetryWaitMs) {
        await sleep(retryAfterMs);
        continue;
      }
      const e = json?.error;
      throw new ServerError(res.status, e?.code ?? 'http_error', e?.message ?? `HTTP ${res.status}`, retryAfterMs, e?.field);
    }
  }

  /** A seat now, in an open room of `mode` or a new one. */
  joinOrCreate(mode, opts = {}) {
    return this.request('POST', '/api/v1/matchmaking/join-or-create', { player_name: opts.name ?? randomName(), mode });
  }

  /** Starts a quick-match search: `{mode, region, name?, skill?, party?}`. */
  createTicket(req) {
    const body = { player_name: req.name ?? randomName(), mode: req.mode, region: req.region };
    if (req.skill !== undefined) body.skill = req.skill;
    if (req.party !== undefined) body.party = req.party;
    return this.request('POST', '/api/v1/matchmaking/tickets', body);
  }

  /** Reads a ticket. */
  pollTicket(id) {
    return this.request('GET', `/api/v1/matchmaking/tickets/${encodeURIComponent(id)}`);
  }

  /** Cancels a searching ticket; resolves the cancelled ticket. */
  cancelTicket(id) {
    return this.request('DELETE', `/api/v1/matchmaking/tickets/${encodeURIComponent(id)}`);
  }

  /** Polls a ticket until it is matched and resolves its owner's seat; rejects if it expires or is cancelled. */
  async waitForSeat(ticketId, opts = {}) {
    const intervalMs = opts.intervalMs ?? 500;
    const deadline = nowMs() + (opts.timeoutMs ?? 120000);
    for (;;) {
      const t = await this.pollTicket(ticketId);
      if (t.status === 'matched' && t.seats?.length) return t.seats[0];
      if (t.status !== 'searching') throw new Error(`ticket ${ticketId} is ${t.status}`);
      if (nowMs() + intervalMs > deadline) throw new Error(`ticket ${ticketId} still searching`);
      await sleep(intervalMs);
    }
  }

  /** Every live room. */
  async listRooms() {
    return (await this.request('GET', '/api/v1/rooms')).rooms;
  }

  /** One live room. */
  getRoom(id) {
    return this.request('GET', `/api/v1/rooms/${encodeURIComponent(id)}`);
  }

  /** A page of public lobbies: `{mode?, offset?, limit?}`. */
  listLobbies(query = {}) {
    const q = new URLSearchParams();
    for (const k of ['mode', 'offset', 'limit']) if (query[k] !== undefined) q.set(k, String(query[k]));
    const s = q.toString();
    return this.request('GET', `/api/v1/lobbies${s ? `?${s}` : ''}`);
  }

  /** Creates a lobby: `{name, mode, maxPlayers, playerName, private?}`; resolves the membership with the owner key. */
  createLobby(req) {
    return this.request('POST', '/api/v1/lobbies', {
      name: req.name, mode: req.mode, max_players: req.maxPlayers, player_name: req.playerName, private: req.private ?? false,
    });
  }

  /** One lobby; with a member key also its join code and the member's seat. */
  getLobby(id, memberKey) {
    return this.request('GET', `/api/v1/lobbies/${encodeURIComponent(id)}`, undefined, memberKey ? { 'x-member-key': memberKey } : {});
  }

  /** Joins a lobby: `{playerName, joinCode?}`. */
  joinLobby(id, req) {
    const body = { player_name: req.playerName };
    if (req.joinCode !== undefined) body.join_code = req.joinCode;
    return this.request('POST', `/api/v1/lobbies/${encodeURIComponent(id)}/join`, body);
  }

  /** Leaves a lobby. */
  leaveLobby(id, memberKey) {
    return this.request('POST', `/api/v1/lobbies/${encodeURIComponent(id)}/leave`, undefined, { 'x-member-key': memberKey });
  }

  /** Starts a lobby's game (owner key); every member then reads its seat with getLobby. */
  startLobby(id, ownerKey) {
    return this.request('POST', `/api/v1/lobbies/${encodeURIComponent(id)}/start`, undefined, { 'x-owner-key': ownerKey });
  }

  /** Opens the seat's WebSocket and resolves once Welcome, Schema and the first Snapshot arrived. */
  async join(seat, opts = {}) {
    const WS = webSocketClass({ WebSocket: opts.WebSocket ?? this.WebSocket });
    const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
    const conn = await handshake(WS, seat.ws_url, encodeJoin(seat.seat_token), timeoutMs);
    return new GameRoom(WS, seat.ws_url, conn, opts);
  }
}

/** The body of `res` as text; a body over `limit` bytes is an error (the server's are small). */
async function readBody(res, limit) {
  if (Number(res.headers.get('content-length') ?? 0) > limit) throw new Error(`response over ${limit} bytes`);
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`response over ${limit} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}

/** Retry-After (seconds or an HTTP date) in ms, or undefined. */
function retryAfter(value) {
  if (value === null || value === undefined || value === '') return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function randomName() {
  return `player-${Math.floor(Math.random() * 1e6)}`;
}
