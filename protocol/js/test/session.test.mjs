// GameRoom's session logic against a scripted socket (test-support/fake.mjs): prediction replay,
// close codes mapped to names, resume after a drop, a refused join.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionClosedError, GameServer, encodeInput, encodeJoin } from '../game-client.js';
import { FakeServer, MOVEMENT_SCHEMA, disconnect, snapshot, welcome } from '../test-support/fake.mjs';
import { hex } from '../test-support/doc.mjs';

const SEAT = { ws_url: 'ws://game.test/ws?room=1', seat_token: '00112233445566778899aabbccddeeff', player_id: 1, room_id: 1 };

/** A room joined through a fake server that admits player 1 at (5000, 5000), tick 1. */
async function joined(opts = {}, at = { x: 5000, y: 5000 }) {
  const server = new FakeServer((ws) => {
    ws.deliver(welcome({ tick: 1, resumeToken: `r${server.sockets.length}` }));
    ws.deliver(MOVEMENT_SCHEMA);
    ws.deliver(snapshot(1, { 1: at, 2: { x: 100, y: 100 } }, 0));
  });
  const room = await new GameServer('http://game.test').join(SEAT, { WebSocket: server.WebSocket, ...opts });
  return { server, room };
}

/** Ends the room as the server would after a Leave. */
function end(room, server) {
  room.leave();
  server.sockets.at(-1).drop(1000, 'left');
}

const closed = (room) => new Promise((resolve) => room.on('close', resolve));

test('join sends Join with the seat token and resolves after Welcome, Schema and Snapshot', async () => {
  const { server, room } = await joined();
  assert.equal(hex(server.sockets[0].sent[0]), hex(encodeJoin(SEAT.seat_token)));
  assert.equal(room.playerId, 1);
  assert.equal(room.tickRate, 30);
  assert.equal(room.schema.game, 'movement');
  assert.deepEqual(room.world.get(2).pos, { x: 100, y: 100 });
  end(room, server);
});

test('prediction replays the inputs after ack and drops the acknowledged ones', async () => {
  const { server, room } = await joined();
  const ws = server.sockets[0];
  assert.deepEqual(room.predicted(), { x: 5000, y: 5000 });
  assert.deepEqual([1, 2, 3].map(() => room.sendInput({ move_x: 127, move_y: 0 })), [1, 2, 3]);
  assert.equal(ws.sent.length, 4, 'each input went out at once');
  assert.deepEqual(room.predicted(), { x: 5000 + 3 * 34, y: 5000 }, 'three ticks at max_speed 34');

  ws.deliver(snapshot(2, { 1: { x: 5034, y: 5000 } }, 1));
  assert.deepEqual(room.pending.map((i) => i.seq), [2, 3], 'input 1 is acknowledged and dropped');
  assert.deepEqual(room.predicted(), { x: 5034 + 2 * 34, y: 5000 }, 'from the server position, inputs 2 and 3 reapplied');

  room.sendInput({ move_x: 0, move_y: -128 });
  assert.deepEqual(room.predicted(), { x: 5034 + 2 * 34, y: 5000 - 34 }, '-128 reads as -127');
  ws.deliver(snapshot(3, { 1: { x: 5102, y: 4966 } }, 4));
  assert.deepEqual(room.pending, []);
  assert.deepEqual(room.predicted(), { x: 5102, y: 4966 });
  end(room, server);
});

test('the default predictor clamps to the bounds; a custom predictor replaces it', async () => {
  const edge = await joined({}, { x: 9990, y: 5 });
  edge.room.sendInput({ move_x: 127, move_y: -127 });
  assert.deepEqual(edge.room.predicted(), { x: 10000, y: 0 });
  end(edge.room, edge.server);

  const calls = [];
  const predict = (pos, input, ctx) => {
    calls.push([input.buttons, ctx.maxSpeed]);
    return { x: pos.x + 1, y: pos.y };
  };
  const custom = await joined({ predict });
  custom.room.sendInput({ buttons: 1 });
  assert.deepEqual(custom.room.predicted(), { x: 5001, y: 5000 });
  assert.deepEqual(calls, [[1, 34]]);
  end(custom.room, custom.server);
});

test('callbacks: spawn, change, despawn, frame', async () => {
  const { server, room } = await joined();
  const seen = [];
  room.on('spawn', (e) => seen.push(['spawn', e.id]));
  room.on('change', (e, comps) => seen.push(['change', e.id, comps]));
  room.on('despawn', (id) => seen.push(['despawn', id]));
  const off = room.on('frame', (f) => seen.push(['frame', f.tick]));
  server.sockets[0].deliver(snapshot(2, { 1: { x: 5000, y: 5001 }, 3: { x: 1, y: 1 } }, 0));
  off();
  server.sockets[0].deliver(snapshot(3, { 1: { x: 5000, y: 5001 }, 3: { x: 1, y: 1 } }, 0));
  assert.deepEqual(seen, [['despawn', 2], ['spawn', 3], ['change', 1, [0]], ['frame', 2]]);
  assert.equal(room.desyncs, 0);
  end(room, server);
});

test("a Disconnect and its close frame reach 'close' with the code's name; kicked does not resume", async () => {
  const { server, room } = await joined();
  const done = closed(room);
  server.sockets[0].deliver(disconnect(8, 'replaced: this player resumed on another connection'));
  server.sockets[0].drop(4005, 'replaced');
  assert.deepEqual(await done, { code: 4005, name: 'kicked', reason: 'replaced: this player resumed on another connection' });
  assert.equal(server.sockets.length, 1, 'no resume after kicked');
});

test('an unexpected drop resumes with the resume token and resends the unacknowledged inputs', async () => {
  const { server, room } = await joined();
  room.sendInput({ move_x: 127 });
  room.sendInput({ move_x: 127 });
  const resumed = new Promise((resolve) => room.on('resume', resolve));
  server.sockets[0].drop(1006);
  const info = await resumed;
  assert.equal(info.resumes, 1);
  assert.equal(info.after.name, 'connection_lost');
  const next = server.sockets[1];
  assert.equal(hex(next.sent[0]), hex(encodeJoin('', 'r1')), 'Join{3, "", Some(resume token)}');
  assert.equal(next.sent.length, 2, 'the newest unacknowledged input is sent again (ack 0)');
  assert.equal(hex(next.sent[1]), hex(encodeInput(room.schema, 2, 1, { move_x: 127 })));
  assert.deepEqual(room.pending.map((i) => i.seq), [2]);
  assert.equal(room.resumeToken, 'r2', "the new Welcome's token replaces the spent one");
  assert.equal(room.resumes, 1);
  end(room, server);
});

test('a refused join rejects with the close code and its name', async () => {
  const server = new FakeServer((ws) => {
    ws.deliver(disconnect(4, 'unknown seat token'));
    ws.drop(4001, 'unknown seat token');
  });
  await assert.rejects(
    new GameServer('http://game.test').join(SEAT, { WebSocket: server.WebSocket }),
    (e) => e instanceof ConnectionClosedError && e.code === 4001 && e.reasonName === 'bad_token' && e.reason === 'unknown seat token',
  );
});

test('pings go out on their interval and a Pong sets pingMs', async () => {
  const { server, room } = await joined({ pingIntervalMs: 10 });
  const ws = server.sockets[0];
  await new Promise((r) => setTimeout(r, 40));
  const ping = ws.sent.find((b) => b[0] === 2);
  assert.ok(ping, 'a Ping was sent');
  assert.equal(room.pingMs, null);
  ws.deliver(Uint8Array.from([4, ...ping.subarray(1), 5]));
  assert.ok(room.pingMs >= 0, `pingMs ${room.pingMs}`);
  end(room, server);
});

test('a malformed frame or a text message ends the room with 4000 malformed', async () => {
  for (const bad of [Uint8Array.of(...snapshot(2, { 1: { x: 0, y: 0 } }, 0), 0), 'hello']) {
    const { server, room } = await joined();
    const done = closed(room);
    server.sockets[0].onmessage({ data: typeof bad === 'string' ? bad : bad.buffer });
    const info = await done;
    assert.equal(info.code, 4000);
    assert.equal(info.name, 'malformed');
    assert.equal(server.sockets.length, 1, 'no resume');
  }
});

test('a silent connection counts as dropped and resumes', async () => {
  const { server, room } = await joined({ silenceMs: 50 });
  const resumed = new Promise((resolve) => room.on('resume', resolve));
  assert.equal((await resumed).after.name, 'connection_lost');
  assert.equal(server.sockets.length, 2);
  end(room, server);
});

test('callbacks given to join() see the first snapshot', async () => {
  const spawned = [];
  const { server, room } = await joined({ on: { spawn: (e) => spawned.push(e.id) } });
  assert.deepEqual(spawned, [1, 2]);
  end(room, server);
});
