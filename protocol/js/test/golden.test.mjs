// Every golden vector and the worked example of PROTOCOL.md, read from the document itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ProtocolError, WIRE_TYPES, WorldMirror, Writer, decodeSchema, decodeServerMessage, encodeInput,
  encodeJoin, encodeLeave, encodePing,
} from '../game-client.js';
import { docBlock, docTable, docVector, hex, unhex } from '../test-support/doc.mjs';

const movement = () => decodeSchema(docBlock('schema-example-hex'));
const coins = () => decodeSchema(docBlock('coins-schema-hex'));

test('client messages match the bytes of §5.1', () => {
  const cases = [
    ['Join{3, "00112233445566778899aabbccddeeff", None}', encodeJoin('00112233445566778899aabbccddeeff')],
    ['Join{3, "", Some("ab")}', encodeJoin('', 'ab')],
    ['Ping{1}', encodePing(1)],
    ['Leave', encodeLeave()],
  ];
  for (const [label, bytes] of cases) assert.equal(hex(bytes), hex(docVector(label)), label);
  const input = encodeInput(movement(), 300, 7, { move_x: -127, move_y: 64, buttons: 1 });
  assert.equal(hex(input), hex(docVector('Input{seq 300, client_tick 7, move_x −127, move_y 64, buttons 1}')));
});

test('§3 zigzag examples', () => {
  assert.equal(hex(new Writer().zigzag(-7).finish()), '0d');
  assert.equal(hex(new Writer().zigzag(5000).finish()), 'fb1027');
});

test('the movement schema of §6.2 decodes', () => {
  const s = movement();
  assert.equal(s.game, 'movement');
  assert.deepEqual(s.params, { max_speed: 34 });
  assert.deepEqual(s.kinds, ['player']);
  assert.deepEqual(s.components, [{ name: 'Position', ownerOnly: false, fields: [{ name: 'pos', type: 'pos' }] }]);
  assert.deepEqual(s.input.map((f) => [f.name, f.type]), [['move_x', 'i8'], ['move_y', 'i8'], ['buttons', 'u8']]);
  assert.deepEqual(s.events, []);
  assert.equal(docBlock('schema-example-hex').length, 74);
});

test('wire type indices match the table of §6.2, with str and fixed arguments', () => {
  for (const [index, type, , bytes] of docTable('index | type | variant fields')) {
    assert.equal(WIRE_TYPES[Number(index)], type.replaceAll('`', ''));
    const m = bytes.match(/`([0-9a-f ]+)`$/);
    assert.equal(m[1].split(' ')[0], Number(index).toString(16).padStart(2, '0'));
  }
  const s = coins();
  const field = (bytes) => {
    const w = new Writer().byte(1).string('g').varint(0).varint(1).string('player')
      .varint(1).string('Position').byte(0).varint(1).string('pos').byte(7);
    return decodeSchema(w.varint(1).string('f').bytes(bytes).varint(0).finish()).input[0];
  };
  assert.deepEqual(field(unhex('08 10')), { name: 'f', type: 'str', maxLen: 16 });
  assert.deepEqual(field(unhex('09 64')), { name: 'f', type: 'fixed', scale: 100 });
  assert.equal(s.components.length, 3);
});

test('the coins schema of §8 decodes', () => {
  const s = coins();
  assert.equal(docBlock('coins-schema-hex').length, 133);
  assert.equal(s.game, 'coins');
  assert.deepEqual(s.kinds, ['player', 'coin']);
  assert.deepEqual(s.components.map((c) => [c.name, c.ownerOnly]), [['Position', false], ['Score', false], ['Wallet', true]]);
  assert.deepEqual(s.events, [{ name: 'CoinTaken', fields: [{ name: 'player', type: 'u32' }, { name: 'coin', type: 'u32' }] }]);
});

test('the worked example: snapshot of tick 300, then the delta of tick 301, checksums verified', () => {
  const mirror = new WorldMirror(coins());
  const snap = mirror.apply(docBlock('snapshot-example-hex'));
  assert.equal(snap.desync, null);
  assert.equal(snap.tick, 300);
  assert.equal(snap.serverTimeUs, 1_699_999_999_950_000n);
  assert.equal(mirror.checksum, 0x3502d78f55248a93n);
  assert.equal(mirror.ack, 41);
  assert.deepEqual(snap.spawned, [3, 4, 9]);
  assert.deepEqual(mirror.get(3).get('Wallet'), { coins: 2 });
  assert.equal(mirror.get(4).get('Wallet'), undefined, "player 4's Wallet is not for player 3");
  assert.deepEqual(mirror.get(9).pos, { x: 1012, y: 1993 });
  assert.equal(mirror.get(9).kindName, 'coin');

  const delta = mirror.apply(docBlock('worked-example-hex'));
  assert.equal(delta.desync, null);
  assert.equal(delta.type, 'delta');
  assert.equal(delta.tick, 301);
  assert.equal(mirror.checksum, 0x97d912b45738d334n);
  assert.equal(mirror.ack, 42);
  assert.deepEqual(delta.despawned, [9]);
  assert.deepEqual(delta.spawned, [12]);
  assert.deepEqual(delta.events, [{ index: 0, name: 'CoinTaken', values: { player: 3, coin: 9 } }]);
  assert.equal(mirror.get(9), undefined);
  assert.deepEqual(mirror.get(3).pos, { x: 1012, y: 1993 });
  assert.deepEqual(mirror.get(3).get('Score'), { points: 5 });
  assert.deepEqual(mirror.get(3).get('Wallet'), { coins: 3 });
  assert.deepEqual(mirror.get(4).pos, { x: 3000, y: 530 });
  assert.deepEqual(mirror.get(12).pos, { x: 5000, y: 250 });
  assert.deepEqual(mirror.entities().map((e) => e.id).sort((a, b) => a - b), [3, 4, 12]);
});

test('a changed checksum is a desync, repaired by the next snapshot', () => {
  const mirror = new WorldMirror(coins());
  mirror.apply(docBlock('snapshot-example-hex'));
  const bad = docBlock('worked-example-hex');
  bad[bad.length - 1] ^= 1;
  assert.match(mirror.apply(bad).desync, /checksum of tick 301 differs/);
  assert.equal(mirror.valid, false);
  assert.match(mirror.apply(docBlock('worked-example-hex')).desync, /baseline 300, the mirror holds 301/);
  assert.equal(mirror.apply(docBlock('snapshot-example-hex')).desync, null);
  assert.equal(mirror.valid, true);
});

test('the other vectors of §8: Welcome, a movement Snapshot, Pong, Disconnect', () => {
  const w = decodeServerMessage(docVector('Welcome{player 3, room 1, 30 Hz, 10000×10000, tick 250, "ff"}'));
  assert.deepEqual(w, { type: 'welcome', playerId: 3, roomId: 1, tickRate: 30, bounds: { width: 10000, height: 10000 }, tick: 250, resumeToken: 'ff' });

  const label = 'Snapshot{tick 2, time 5,\n[(1, player, pos (0, 0)), (300, player, pos (−1, 1))], ack 2, no owned, no events, checksum 42}';
  const s = decodeServerMessage(docVector(label), movement());
  assert.equal(s.type, 'snapshot');
  assert.equal(s.tick, 2);
  assert.equal(s.serverTimeUs, 5n);
  assert.deepEqual(s.entities.map((e) => [e.id, e.kind, e.components.get(0)[0]]), [[1, 0, { x: 0, y: 0 }], [300, 0, { x: -1, y: 1 }]]);
  assert.equal(s.ack, 2);
  assert.equal(s.checksum, 42n);

  assert.deepEqual(decodeServerMessage(docVector('Pong{1, 2}')), { type: 'pong', clientTimeUs: 1n, serverTimeUs: 2n });
  assert.deepEqual(decodeServerMessage(docVector('Disconnect{Lagging, "slow"}')), { type: 'disconnect', index: 9, name: 'lagging', reason: 'slow' });
});

test('malformed frames are refused (§6.4 "What a client must refuse")', () => {
  const mirror = new WorldMirror(coins());
  const snap = docBlock('snapshot-example-hex');
  assert.throws(() => mirror.apply(Uint8Array.of(...snap, 0)), ProtocolError, 'bytes after the checksum');
  assert.throws(() => mirror.apply(snap.subarray(0, snap.length - 1)), ProtocolError, 'cut short');
  const ownerOnlyShared = Uint8Array.from(snap);
  ownerOnlyShared[ownerOnlyShared.indexOf(0x05) + 2] = 0x04; // coin 9's mask 0b001 -> 0b100 (Wallet)
  assert.throws(() => mirror.apply(ownerOnlyShared), ProtocolError);
  assert.throws(() => decodeServerMessage(unhex('00 fd 0100000000000000 01 1e 00 00 00 00')), /prefix 0xfd/);
});
