// Area deltas (tag 6, PROTOCOL.md §6.5): the worked example read from the document, applied on
// top of §8's snapshot and delta; the skip rule; what is malformed and what is a desync; the
// session's callbacks, interpolation and prediction on area deltas; the protocol version.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PROTOCOL_VERSION, ProtocolError, WorldMirror, decodeSchema, decodeServerMessage, encodeJoin, GameServer,
} from '../game-client.js';
import { DOC, docBlock, docBlockText, hex, unhex } from '../test-support/doc.mjs';
import { FakeServer, welcome } from '../test-support/fake.mjs';

const COINS = docBlock('coins-schema-hex');
const coins = () => decodeSchema(COINS);
const AREA = hex(docBlock('area-example-hex'));
/** The checksum printed in the example's last comment. */
const PRINTED = BigInt(docBlockText('area-example-hex').match(/# checksum (0x[0-9a-f]+)/)[1]);

/** Player 3's mirror after §8's snapshot of tick 300 and delta of tick 301. */
function mirrorAt301() {
  const mirror = new WorldMirror(coins());
  assert.equal(mirror.apply(docBlock('snapshot-example-hex')).desync, null);
  assert.equal(mirror.apply(docBlock('worked-example-hex')).desync, null);
  return mirror;
}

/** The §6.5 example with the hex `from` (which must occur once in it) replaced by `to`. */
function variant(from, to, of = AREA) {
  const f = from.replace(/\s+/g, '');
  assert.equal(of.split(f).length, 2, `${from} occurs once in the example`);
  return unhex(of.replace(f, to.replace(/\s+/g, '')));
}

const ids = (mirror) => mirror.entities().map((e) => e.id).sort((a, b) => a - b);

test('the area delta of §6.5 decodes as its comments say', () => {
  const bytes = docBlock('area-example-hex');
  const count = DOC.match(/(\d+)\s+bytes:\s*<!-- area-example-hex -->/);
  assert.ok(count, 'PROTOCOL.md gives the byte count before the block');
  assert.equal(bytes.length, Number(count[1]));
  const f = decodeServerMessage(bytes, coins());
  assert.equal(f.type, 'areaDelta');
  assert.equal(f.tick, 302);
  assert.equal(f.baseline, 301);
  assert.equal(f.serverTimeUs, 1_700_000_000_050_000n);
  assert.deepEqual(f.left, [4]);
  assert.deepEqual(f.pieces, [
    { moved: [{ id: 3, dx: 5, dy: 0 }], changed: [{ id: 3, components: new Map([[1, [6]]]) }] },
    { moved: [{ id: 7, dx: 0, dy: -3 }], changed: [] },
  ], "each list of each piece starts its own running sum: piece 2's gap 7 is id 7");
  assert.deepEqual(f.entered, [{ id: 15, kind: 1, components: new Map([[0, [{ x: 1100, y: 1990 }]]]) }]);
  assert.equal(f.ackAdvance, 1);
  assert.deepEqual(f.owned, []);
  assert.deepEqual(f.events, []);
  assert.equal(f.checksum, PRINTED);
});

test("§6.5's example applies on top of §8's snapshot and delta with the printed checksum", () => {
  const mirror = mirrorAt301();
  const r = mirror.apply(docBlock('area-example-hex'));
  assert.equal(r.desync, null);
  assert.equal(r.type, 'areaDelta');
  assert.equal(r.tick, 302);
  assert.equal(mirror.tick, 302);
  assert.equal(mirror.valid, true);
  assert.equal(mirror.checksum, PRINTED);
  assert.equal(mirror.checksum, 0x3561b74ad1ba09ccn);
  assert.equal(mirror.ack, 43, 'ack advance 1: 42 -> 43');
  assert.equal(r.ack, 43);
  assert.deepEqual(ids(mirror), [3, 12, 15], '4 left, 7 is not held, 15 entered');
  const held = DOC.match(/player 3's mirror holds entities ([\d, and]+)\)/);
  assert.deepEqual(ids(mirror), held[1].split(/,\s*|\s+and\s+/).map(Number), 'as the text says');
  assert.deepEqual(mirror.get(3).pos, { x: 1017, y: 1993 });
  assert.deepEqual(mirror.get(3).get('Score'), { points: 6 });
  assert.deepEqual(mirror.get(3).get('Wallet'), { coins: 3 }, 'the owner-only component stays');
  assert.deepEqual(mirror.get(12).pos, { x: 5000, y: 250 });
  assert.deepEqual(mirror.get(15).pos, { x: 1100, y: 1990 });
  assert.equal(mirror.get(15).kindName, 'coin');
  assert.deepEqual(r.despawned, [4], 'left is a despawn');
  assert.deepEqual(r.spawned, [15], 'entered is a spawn');
  assert.deepEqual(r.changed, [{ id: 3, components: [0, 1] }], 'nothing for 7, which is not held');
  assert.equal(r.skipped, 1, "piece 2's move of 7");
});

test('piece entries of entities not held are read and skipped: no error, no change, no callback', () => {
  // Piece 1 also moves 4 (left in this frame: not held any more); piece 2 also moves 15 (it
  // enters in this frame: not held yet) and changes 7's Score. None of them is applied, so the
  // printed checksum still holds.
  const withMore = variant(
    '02 01 030a00 01 03 02 06 01 070005 00',
    '02 02 030a00 01 0000 01 03 02 06 02 070005 08 0203 01 07 02 09',
  );
  const mirror = mirrorAt301();
  const r = mirror.apply(withMore);
  assert.equal(r.desync, null);
  assert.equal(r.skipped, 4);
  assert.equal(mirror.checksum, PRINTED);
  assert.deepEqual(ids(mirror), [3, 12, 15]);
  assert.deepEqual(mirror.get(15).pos, { x: 1100, y: 1990 }, "entered's position, not moved by the skipped entry");
  assert.deepEqual(r.despawned, [4]);
  assert.deepEqual(r.spawned, [15]);
  assert.deepEqual(r.changed, [{ id: 3, components: [0, 1] }]);
});

test('malformed area deltas are refused, skipped entries included, and leave the mirror as it was', () => {
  const pieces = '02 01 030a00 01 03 02 06 01 070005 00';
  const entered = '01 0f 01 01 fb9808 fb8c0f';
  const cases = [
    [variant(pieces, '02 01 030a00 01 03 03 00 00 06 01 070005 00'), "bit 0 in a piece's changed"],
    [variant(pieces, '02 01 030a00 01 03 02 06 01 070005 01 07 01 0000'), "bit 0 in a piece's changed, entity not held"],
    [variant(pieces, '02 01 030a00 01 03 02 06 01 070005 01 07 04 03'), "an owner-only bit in a piece's changed, entity not held"],
    [variant(pieces, '02 01 030a00 01 03 02 06 01 070005 01 07 08'), 'a mask bit at or above the component count'],
    [variant(pieces, '02 01 030a00 01 03 02 06 01 070005 01 07 02 fc01000000'), "a u16 with prefix 0xfc in a skipped entry's values"],
    [variant(pieces, '02 02 030a00 00 0000 00 01 070005 00'), "an id gap of 0 in a piece's moved"],
    [variant(pieces, '02 01 030a00 02 03 02 06 00 02 07 01 070005 00'), "an id gap of 0 in a piece's changed"],
    [variant(pieces, '03 01 030a00 01 03 02 06 01 070005 00'), 'more pieces than there are (the third reads into entered)'],
    [variant(pieces, 'fbff00 01 030a00 01 03 02 06 01 070005 00'), 'more pieces than bytes left'],
    [variant('0600 0104 02', '0600 02 04 00 02'), 'an id gap of 0 in left'],
    [variant(entered, '01 0f 02 01 fb9808 fb8c0f'), 'an unknown kind in entered'],
    [variant(entered, '01 0f 01 05 fb9808 fb8c0f 03'), 'an owner-only bit in entered'],
    [Uint8Array.of(...unhex(AREA), 0), 'a byte after the checksum'],
    [unhex(AREA).subarray(0, AREA.length / 2 - 1), 'cut short'],
  ];
  const mirror = mirrorAt301();
  const before = mirror.checksum;
  for (const [bytes, rule] of cases) {
    assert.throws(() => mirror.apply(bytes), ProtocolError, rule);
    assert.equal(mirror.tick, 301, rule);
    assert.equal(mirror.checksum, before, rule);
  }
  assert.equal(mirror.apply(docBlock('area-example-hex')).desync, null, 'the real one still applies');
});

test('area deltas that do not fit the mirror are desyncs', () => {
  const cases = [
    [variant('0600 0104 02', '0600 0105 02'), /left 5 is not held/, 'left naming an entity not held'],
    [variant('01 0f 01 01 fb9808 fb8c0f', '01 0c 01 01 fb9808 fb8c0f'), /entered 12 is already held/, 'entered naming one held'],
    [variant('fb2e01 fb2d01', 'fb2e01 fb2c01'), /baseline 300, the mirror holds 301/, 'a wrong baseline'],
    [variant('01 03 02 06 01 070005', '01 0c 02 06 01 070005'), /changed 12 names component 1/, 'a held entity changed in a component it lacks'],
    [variant('01 00 00 fdcc09bad14ab76135', '01 01 07 04 03 00 fdcc09bad14ab76135'), /owned 7 unknown/, 'owned naming an entity not held'],
    [variant('fdcc09bad14ab76135', 'fdcd09bad14ab76135'), /checksum of tick 302 differs/, 'a checksum that differs'],
  ];
  for (const [bytes, reason, rule] of cases) {
    const mirror = mirrorAt301();
    const r = mirror.apply(bytes);
    assert.match(r.desync ?? '', reason, rule);
    assert.equal(mirror.valid, false, rule);
    assert.equal(mirror.apply(docBlock('snapshot-example-hex')).desync, null, 'a snapshot repairs it');
  }
  const fresh = new WorldMirror(coins());
  assert.match(fresh.apply(docBlock('area-example-hex')).desync, /before any snapshot/, 'no baseline held');
});

test('outside an area delta, a move of an entity not held is still a desync', () => {
  const mirror = new WorldMirror(coins());
  mirror.apply(docBlock('snapshot-example-hex'));
  const delta = variant('02 03180d 01003c', '03 03180d 01003c 03 0000', hex(docBlock('worked-example-hex')));
  assert.match(mirror.apply(delta).desync, /moved 7 is not held/);
});

test('a room on area deltas: left/entered reach callbacks and interpolation as despawns/spawns; prediction replays after the ack', async () => {
  const server = new FakeServer((ws) => {
    ws.deliver(welcome({ playerId: 3, tick: 300 }));
    ws.deliver(COINS);
    ws.deliver(docBlock('snapshot-example-hex'));
  });
  const seat = { ws_url: 'ws://game.test/ws?room=1', seat_token: '00112233445566778899aabbccddeeff', player_id: 3, room_id: 1 };
  const room = await new GameServer('http://game.test').join(seat, { WebSocket: server.WebSocket });
  const ws = server.sockets[0];
  try {
    assert.equal(ws.sent[0][1], PROTOCOL_VERSION, 'Join carries the version');
    ws.deliver(docBlock('worked-example-hex'));
    // The server applied inputs up to 42 (§8); the next two this client sends are 43 and 44.
    room.seq = 42;
    room.sendInput({ move_x: 127, move_y: 0 });
    room.sendInput({ move_x: 127, move_y: 0 });

    const seen = [];
    room.on('spawn', (e) => seen.push(['spawn', e.id]));
    room.on('despawn', (id) => seen.push(['despawn', id]));
    room.on('change', (e, comps) => seen.push(['change', e.id, comps]));
    room.on('frame', (f) => seen.push(['frame', f.type, f.tick]));
    ws.deliver(variant(
      '02 01 030a00 01 03 02 06 01 070005 00',
      '02 02 030a00 01 0000 01 03 02 06 02 070005 08 0203 01 07 02 09',
    ));
    assert.deepEqual(seen, [['despawn', 4], ['spawn', 15], ['change', 3, [0, 1]], ['frame', 'areaDelta', 302]]);
    assert.equal(room.desyncs, 0);
    assert.equal(room.tick, 302);
    assert.equal(room.interp.samples.has(4), false, 'left: its samples are forgotten');
    assert.equal(room.interp.samples.has(7), false, 'skipped: no samples');
    assert.deepEqual(room.interp.samples.get(15).map(({ x, y }) => ({ x, y })), [{ x: 1100, y: 1990 }]);
    assert.deepEqual(room.interp.samples.get(3).at(-1), { t: 1_700_000_000_050, x: 1017, y: 1993 });
    assert.deepEqual(room.pending.map((i) => i.seq), [44], 'ack 43 drops input 43');
    assert.deepEqual(room.predicted(), { x: 1017 + 34, y: 1993 }, 'input 44 replayed on the new position');
  } finally {
    room.leave();
    ws.drop(1000, 'left');
  }
});

test('PROTOCOL_VERSION is the version PROTOCOL.md states', () => {
  const title = DOC.match(/^# Game wire protocol, version (\d+)$/m);
  const versioning = DOC.match(/this document describes version \*\*(\d+)\*\*/);
  const join = DOC.match(/`protocol_version: u16` \(must be (\d+)\)/);
  for (const m of [title, versioning, join]) {
    assert.ok(m, 'PROTOCOL.md states its version');
    assert.equal(PROTOCOL_VERSION, Number(m[1]));
  }
  assert.equal(encodeJoin('')[1], PROTOCOL_VERSION);
});
