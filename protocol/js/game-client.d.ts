// Types of @game-server/client (game-client.js): the JavaScript client of the game server,
// wire format version 3 (protocol/PROTOCOL.md).

/** The wire format this module speaks (`Join.protocol_version`). */
export const PROTOCOL_VERSION: 3;
/** Largest client message in bytes, tag included. */
export const MAX_CLIENT_MESSAGE: number;
/** Largest server message in bytes. */
export const MAX_SERVER_MESSAGE: number;
/** Longest seat or resume token in bytes. */
export const MAX_TOKEN: number;
/** `CloseCode` names by enum index (PROTOCOL.md §10). */
export const CLOSE_CODE_NAMES: readonly CloseName[];
/** Every WebSocket close code of PROTOCOL.md §10 mapped to its name. */
export const CloseReason: Readonly<Record<number, CloseName>>;
/** Wire type names by `WireType` index (PROTOCOL.md §6.2). */
export const WIRE_TYPES: readonly WireTypeName[];

export type CloseName =
  | 'normal' | 'shutdown' | 'too_big' | 'malformed' | 'bad_token' | 'version_mismatch'
  | 'rate_limited' | 'room_full' | 'kicked' | 'lagging' | 'join_timeout' | 'idle_timeout'
  | 'room_closed';

/** A close code's §10 name, `connection_lost` (1005, 1006) or `unknown`. */
export function closeReasonName(code: number): CloseName | 'connection_lost' | 'unknown';

/** The server sent bytes this client must refuse. */
export class ProtocolError extends Error {}

/** A REST call failed with the server's JSON error. */
export class ServerError extends Error {
  /** HTTP status. */
  status: number;
  /** The server's stable snake_case code, e.g. `rate_limited`, `not_found`. */
  code: string;
  /** Set from `Retry-After` when the server sent one (429, 503). */
  retryAfterMs?: number;
  /** The request field at fault, when the server named one. */
  field?: string;
}

/** A game connection ended or was refused. */
export class ConnectionClosedError extends Error {
  code: number;
  reason: string;
  reasonName: string;
}

// ------------------------------------------------------------------------------ schema

export type WireTypeName = 'bool' | 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'pos' | 'str' | 'fixed';

/** One field of a component, an event or the input. */
export interface Field {
  name: string;
  type: WireTypeName;
  /** `str` only: the longest string in bytes. */
  maxLen?: number;
  /** `fixed` only: raw units per 1.0. */
  scale?: number;
}

/** A room's game, from its Schema message (PROTOCOL.md §6.2). */
export interface Schema {
  game: string;
  /** Named numbers of the game and room (exact below 2^53), e.g. `max_speed`. */
  params: Record<string, number>;
  /** Entity kinds; index = number in frames; kind 0 is `player`. */
  kinds: string[];
  /** Components; index = bit in masks; component 0 is `Position {pos}`. */
  components: { name: string; ownerOnly: boolean; fields: Field[] }[];
  /** The fields of an Input after `client_tick`. */
  input: Field[];
  events: { name: string; fields: Field[] }[];
}

/** A position in quanta (1/100 of a world unit). */
export interface Pos { x: number; y: number }

/** A field value: numbers, booleans, strings; `pos` as `{x, y}`; `fixed` as its raw integer. */
export type Value = number | boolean | string | Pos;

// --------------------------------------------------------------------------- messages

export interface Welcome {
  type: 'welcome';
  playerId: number;
  roomId: number;
  tickRate: number;
  bounds: { width: number; height: number };
  tick: number;
  resumeToken: string;
}

/** A game event: `values` by field name (`fixed` as raw / scale). */
export interface GameEvent { index: number; name: string; values: Record<string, Value> }

export interface EntityItem { id: number; kind: number; components: Map<number, Value[]> }
export interface OwnedItem { id: number; components: Map<number, Value[]> }

export interface SnapshotFrame {
  type: 'snapshot';
  tick: number;
  serverTimeUs: bigint;
  entities: EntityItem[];
  ack: number;
  owned: OwnedItem[];
  events: GameEvent[];
  checksum: bigint;
}

export interface DeltaFrame {
  type: 'delta';
  tick: number;
  baseline: number;
  serverTimeUs: bigint;
  despawned: number[];
  moved: { id: number; dx: number; dy: number }[];
  changed: OwnedItem[];
  spawned: EntityItem[];
  ackAdvance: number;
  owned: OwnedItem[];
  events: GameEvent[];
  checksum: bigint;
}

/** One piece of an area delta: the moves and changes of one cell of the server's grid. */
export interface AreaPiece {
  moved: { id: number; dx: number; dy: number }[];
  changed: OwnedItem[];
}

/**
 * An area delta (tag 6, PROTOCOL.md §6.5), sent instead of a Delta in a room with an interest
 * radius: piece entries may name entities the client does not hold, which it skips.
 */
export interface AreaDeltaFrame {
  type: 'areaDelta';
  tick: number;
  baseline: number;
  serverTimeUs: bigint;
  /** Entities the client no longer holds (gone, out of sight or replaced). */
  left: number[];
  pieces: AreaPiece[];
  /** Entities the client now holds, with their shared components in full. */
  entered: EntityItem[];
  ackAdvance: number;
  owned: OwnedItem[];
  events: GameEvent[];
  checksum: bigint;
}

export type Frame = SnapshotFrame | DeltaFrame | AreaDeltaFrame;

export type ServerMessage =
  | Welcome
  | { type: 'schema'; schema: Schema }
  | SnapshotFrame
  | DeltaFrame
  | AreaDeltaFrame
  | { type: 'pong'; clientTimeUs: bigint; serverTimeUs: bigint }
  | { type: 'disconnect'; index: number; name: CloseName | 'unknown'; reason: string };

/** Decodes a Schema message (tag 1 first) and checks the rules of §6.2. */
export function decodeSchema(bytes: Uint8Array): Schema;
/** Decodes one server message; frames need the room's schema. Throws ProtocolError. */
export function decodeServerMessage(bytes: Uint8Array, schema?: Schema): ServerMessage;
/** Whether a decoded message is a frame (Snapshot, Delta or AreaDelta). */
export function isFrame(msg: ServerMessage): msg is Frame;
/** `Join{3, seatToken, resumeToken}` (resume: `''` and the resume token). */
export function encodeJoin(seatToken: string, resumeToken?: string | null): Uint8Array;
/** `Input{seq, clientTick, fields}` laid out by the schema's input list; missing fields are 0. */
export function encodeInput(schema: Schema, seq: number, clientTick: number, fields: Record<string, Value>): Uint8Array;
/** `Ping{clientTimeUs}`. */
export function encodePing(clientTimeUs: number | bigint): Uint8Array;
/** `Leave`. */
export function encodeLeave(): Uint8Array;
/** Field values as an object by field name (`fixed` as raw / scale). */
export function fieldsObject(fields: Field[], values: Value[]): Record<string, Value>;

/** Primitive reader of PROTOCOL.md §3; every overrun or refused prefix throws ProtocolError. */
export class Reader {
  constructor(bytes: Uint8Array);
  /** Bytes not read yet. */
  readonly left: number;
  /** One byte. */
  byte(): number;
  /** The next `n` bytes. */
  raw(n: number): Uint8Array;
  /** A varint of a `bits`-wide type, refusing the prefixes that type does not allow. */
  varintBig(bits: 16 | 32 | 64): bigint;
  /** A `u16` or `u32` varint. */
  varint(bits: 16 | 32): number;
  u16(): number;
  u32(): number;
  u64(): bigint;
  /** A `u64` varint: a Number when it fits in 32 bits, else a BigInt. */
  small64(): number | bigint;
  /** A zigzag `i16` or `i32`. */
  zigzag(bits: 16 | 32): number;
  /** A zigzag `i64`. */
  i64(): bigint;
  /** A byte that must be 0 or 1. */
  bool(): boolean;
  /** A list count, refused when larger than the bytes left. */
  count(): number;
  /** A UTF-8 string of at most `maxLen` bytes. */
  string(maxLen?: number): string;
  /** Throws unless every byte was read. */
  end(): void;
}

/** Primitive writer of PROTOCOL.md §3 (shortest varints). */
export class Writer {
  /** One byte. */
  byte(b: number): this;
  /** Bytes as they are. */
  bytes(bs: ArrayLike<number>): this;
  /** An unsigned varint. */
  varint(v: number | bigint): this;
  /** A signed value, zigzagged, then varint. */
  zigzag(v: number | bigint): this;
  /** Varint byte length, then UTF-8. */
  string(s: string): this;
  /** The bytes written. */
  finish(): Uint8Array;
}

// --------------------------------------------------------------------------- checksum

export function mix64(z: bigint): bigint;
export function fnv1a64(bytes: Uint8Array): bigint;
export function entityHash(id: number, kind: number): bigint;
export function componentSeed(id: number, index: number): bigint;
export function componentHash(id: number, index: number, words: bigint[]): bigint;
/** The checksum word of a field value (§6.3). */
export function fieldWord(type: WireTypeName, value: Value): bigint;

// ------------------------------------------------------------------------------ mirror

/** An entity of the mirror. */
export class Entity {
  readonly id: number;
  readonly kind: number;
  readonly kindName: string;
  /** Field values by component index, in schema order. */
  components: Map<number, Value[]>;
  /** Component 0's position, or null. */
  readonly pos: Pos | null;
  /** A component by name as `{field: value}` (`fixed` as raw / scale). */
  get(component: string): Record<string, Value> | undefined;
  /** This entity's checksum terms summed. */
  hash(): bigint;
}

/** What applying one frame did. */
export interface FrameResult {
  type: 'snapshot' | 'delta' | 'areaDelta';
  tick: number;
  serverTimeUs: bigint;
  ack: number;
  events: GameEvent[];
  /** Entities new in the mirror (a delta's `spawned`, an area delta's `entered`). */
  spawned: number[];
  /** Held entities that stayed and changed, with the component indices that did. */
  changed: { id: number; components: number[] }[];
  /** Entities gone from the mirror (a delta's `despawned`, an area delta's `left`). */
  despawned: number[];
  /** Piece entries of an area delta naming entities the mirror does not hold: read, not applied. */
  skipped: number;
  /** Null, or why the mirror is not the server's world (it waits for the next snapshot). */
  desync: string | null;
}

/** The world as this client holds it; the checksum verified on every frame. */
export class WorldMirror {
  constructor(schema: Schema);
  readonly schema: Schema;
  /** Wrapping 64-bit sum of §7 over the held entities. */
  readonly checksum: bigint;
  /** The last input seq the server applied for this player. */
  readonly ack: number;
  /** The held tick (null before the first snapshot). */
  readonly tick: number | null;
  readonly serverTimeUs: bigint;
  /** False after a desync, until the next snapshot. */
  readonly valid: boolean;
  get(id: number): Entity | undefined;
  entities(): Entity[];
  /** Decodes and applies a Snapshot, Delta or AreaDelta message. Throws ProtocolError when malformed. */
  apply(bytes: Uint8Array): FrameResult;
  applyFrame(frame: Frame): FrameResult;
}

// ---------------------------------------------------------- prediction, interpolation

/** What a predictor gets besides the position and the input. */
export interface PredictContext {
  /** The schema parameter `max_speed` (undefined when the game has none). */
  maxSpeed: number | undefined;
  bounds: { width: number; height: number };
  schema: Schema;
  playerId: number;
}

/** One tick of a game's movement for one input. */
export type Predictor = (pos: Pos, input: Record<string, Value>, ctx: PredictContext) => Pos;

/** The velocity of an intent by PROTOCOL.md §5.1. */
export function intentVelocity(moveX: number, moveY: number, maxSpeed: number): Pos;
/** One tick of §5.1's movement rule, clamped to the bounds: the default predictor. */
export const movementPredictor: Predictor;
/** `serverPos` with the inputs whose seq is above `ack` applied in order. */
export function replayInputs(
  serverPos: Pos,
  pending: { seq: number; fields: Record<string, Value> }[],
  ack: number,
  predict: Predictor,
  ctx: PredictContext,
): Pos;

/** Positions over server time, rendered `delayMs` in the past. */
export class Interpolator {
  constructor(opts?: { delayMs?: number; historyMs?: number; clockWindow?: number });
  delayMs: number;
  /** Server time minus local time in ms (null before the first frame). */
  readonly offsetMs: number | null;
  observeClock(serverTimeMs: number, localMs: number): void;
  push(id: number, serverTimeMs: number, pos: Pos): void;
  forget(id: number): void;
  /** Linear between samples, clamped to the ends; null for an unknown entity. */
  at(id: number, serverTimeMs: number): Pos | null;
  /** The position at local time `nowMs` (performance.now() scale). */
  render(id: number, nowMs: number): Pos | null;
}

// -------------------------------------------------------------------------- session

export interface JoinOptions {
  /** A WebSocket class (e.g. `ws` in Node 20/21); default `globalThis.WebSocket`. */
  WebSocket?: any;
  /** Replaces the default movement predictor (used when the input has `move_x`/`move_y`). */
  predict?: Predictor;
  /** Render others this far behind server time (default 100 ms). */
  interpolationDelayMs?: number;
  /** Join or resume handshake timeout (default 10,000 ms). */
  timeoutMs?: number;
  /** Ping interval (default 1,000 ms). */
  pingIntervalMs?: number;
  /** How long after a drop to keep trying to resume (default 10,000 ms, the server's default grace). */
  resumeWithinMs?: number;
  /** No message for this long counts as a dropped connection (default 5,000 ms). */
  silenceMs?: number;
  /** Most unacknowledged inputs kept for prediction (default 256). */
  maxPending?: number;
  /**
   * Callbacks registered before the first snapshot is applied, so they also see its spawns and
   * events (those of `room.on()` start with the next frame).
   */
  on?: { [K in keyof RoomEvents]?: RoomEvents[K] };
}

export interface CloseInfo { code: number; reason: string; name: string }

export interface RoomEvents {
  spawn: (entity: Entity) => void;
  change: (entity: Entity, components: number[]) => void;
  despawn: (id: number) => void;
  event: (event: GameEvent) => void;
  frame: (result: FrameResult) => void;
  close: (info: CloseInfo) => void;
  resume: (info: { resumes: number; after: CloseInfo }) => void;
  desync: (result: FrameResult) => void;
}

/** A joined room: mirror, inputs, prediction, interpolation, ping, resume. */
export class GameRoom {
  readonly playerId: number;
  readonly roomId: number;
  readonly schema: Schema;
  readonly tickRate: number;
  readonly bounds: { width: number; height: number };
  readonly world: WorldMirror;
  /** The last frame's tick. */
  tick: number;
  /** Round trip of the last Ping in ms (null before the first Pong). */
  pingMs: number | null;
  /** Frames that did not verify. */
  desyncs: number;
  /** Successful resumes after drops. */
  resumes: number;
  /** Inputs not yet acknowledged, oldest first. */
  readonly pending: { seq: number; fields: Record<string, Value> }[];
  /** Sends one Input (one tick of intent) and returns its seq (0 once closed). */
  sendInput(fields: Record<string, number | boolean>): number;
  /** The local player's predicted position in quanta, or null. */
  predicted(): Pos | null;
  /** Entity `id` at server time now − interpolation delay, or null. */
  interpolated(id: number, nowMs?: number): Pos | null;
  /** Registers a callback from the next frame on (see `JoinOptions.on`); returns its remover. */
  on<K extends keyof RoomEvents>(event: K, cb: RoomEvents[K]): () => void;
  /** Sends Leave; 'close' follows. */
  leave(): void;
}

// ----------------------------------------------------------------------------- REST

/** A reserved seat (`SeatGrant` of /openapi.json). */
export interface Seat {
  player_name: string;
  room_id: number;
  ws_url: string;
  seat_token: string;
  player_id: number;
  expires_in_ms: number;
}

/** A matchmaking ticket (`TicketView`). */
export interface Ticket {
  ticket_id: string;
  status: 'searching' | 'matched' | 'expired' | 'cancelled';
  mode: string;
  region: string;
  waited_ms: number;
  room_id?: number;
  ws_url?: string;
  seat_token?: string;
  player_id?: number;
  seats?: Seat[];
}

/** A live room (`RoomView`). */
export interface RoomInfo {
  room_id: number;
  mode: string;
  players: number;
  capacity: number;
  tick: number;
  spectate_url: string;
  events_url: string;
}

/** A lobby (`LobbyView`). */
export interface Lobby {
  lobby_id: string;
  name: string;
  mode: string;
  max_players: number;
  private: boolean;
  state: 'open' | 'started';
  members: string[];
  room_id?: number;
  join_code?: string;
  seat?: Seat;
}

/** A membership (`LobbyMembership`). */
export interface LobbyMembership { lobby: Lobby; member_key: string; owner_key?: string }

/** A page of lobbies (`LobbyPage`). */
export interface LobbyPage { lobbies: Lobby[]; total: number; next_offset?: number }

export interface GameServerOptions {
  fetch?: typeof fetch;
  WebSocket?: any;
  /** Per request (default 10,000 ms). */
  timeoutMs?: number;
  /** Retries of a 429 (default 3). */
  maxRetries?: number;
  /** Longest Retry-After honoured by waiting (default 10,000 ms); longer ones throw. */
  maxRetryWaitMs?: number;
}

/** The REST API and the door to the game rooms. */
export class GameServer {
  constructor(baseUrl: string, opts?: GameServerOptions);
  /** A seat now, in an open room of `mode` or a new one (`name` defaults to a random one). */
  joinOrCreate(mode: string, opts?: { name?: string }): Promise<Seat>;
  createTicket(req: { mode: string; region: string; name?: string; skill?: number; party?: string[] }): Promise<Ticket>;
  pollTicket(id: string): Promise<Ticket>;
  /** Resolves the cancelled ticket. */
  cancelTicket(id: string): Promise<Ticket>;
  /** Polls until matched (default every 500 ms, up to 120 s); rejects on expired/cancelled. */
  waitForSeat(ticketId: string, opts?: { intervalMs?: number; timeoutMs?: number }): Promise<Seat>;
  listRooms(): Promise<RoomInfo[]>;
  getRoom(id: number): Promise<RoomInfo>;
  listLobbies(query?: { mode?: string; offset?: number; limit?: number }): Promise<LobbyPage>;
  createLobby(req: { name: string; mode: string; maxPlayers: number; playerName: string; private?: boolean }): Promise<LobbyMembership>;
  getLobby(id: string, memberKey?: string): Promise<Lobby>;
  joinLobby(id: string, req: { playerName: string; joinCode?: string }): Promise<LobbyMembership>;
  leaveLobby(id: string, memberKey: string): Promise<void>;
  startLobby(id: string, ownerKey: string): Promise<Lobby>;
  /** Opens the seat's WebSocket; resolves after Welcome, Schema and the first Snapshot. */
  join(seat: Seat, opts?: JoinOptions): Promise<GameRoom>;
}
