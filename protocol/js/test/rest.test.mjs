// The REST client: errors become ServerError with the server's code and message; 429 waits
// Retry-After and retries, a bounded number of times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerError, GameServer } from '../game-client.js';

/** A fetch that answers each call with the next of `answers` and records the requests. */
function scripted(answers) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    const [status, body, headers = {}] = answers[Math.min(calls.length - 1, answers.length - 1)];
    return new Response(body === null ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
  };
  return { fetch, calls };
}

const SEAT = { player_name: 'ada', room_id: 1, ws_url: 'ws://h/ws?room=1', seat_token: 'ab', player_id: 3, expires_in_ms: 1000 };

test('join-or-create posts the documented body and resolves the seat', async () => {
  const { fetch, calls } = scripted([[200, SEAT]]);
  const seat = await new GameServer('http://h/', { fetch }).joinOrCreate('deathmatch', { name: 'ada' });
  assert.deepEqual(seat, SEAT);
  assert.equal(calls[0].url, 'http://h/api/v1/matchmaking/join-or-create');
  assert.equal(calls[0].init.method, 'POST');
  assert.deepEqual(JSON.parse(calls[0].init.body), { player_name: 'ada', mode: 'deathmatch' });
});

test("an error answer becomes a ServerError with the server's code and message", async () => {
  const { fetch } = scripted([[409, { error: { code: 'lobby_full', message: 'the lobby is full' } }]]);
  await assert.rejects(new GameServer('http://h', { fetch }).joinLobby('L1', { playerName: 'bo' }), (e) => {
    assert.ok(e instanceof ServerError);
    assert.equal(e.status, 409);
    assert.equal(e.code, 'lobby_full');
    assert.equal(e.message, 'the lobby is full');
    return true;
  });
});

test('429 waits Retry-After and retries', async () => {
  const { fetch, calls } = scripted([
    [429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'retry-after': '0' }],
    [200, { rooms: [{ room_id: 1 }] }],
  ]);
  assert.deepEqual(await new GameServer('http://h', { fetch }).listRooms(), [{ room_id: 1 }]);
  assert.equal(calls.length, 2);
});

test('429 after the last retry is a ServerError with retryAfterMs', async () => {
  const { fetch, calls } = scripted([[429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'retry-after': '0' }]]);
  await assert.rejects(new GameServer('http://h', { fetch, maxRetries: 2 }).pollTicket('t1'), (e) => {
    assert.ok(e instanceof ServerError);
    assert.equal(e.code, 'rate_limited');
    assert.equal(e.retryAfterMs, 0);
    return true;
  });
  assert.equal(calls.length, 3, 'one call and two retries');
});

test('waitForSeat polls until the ticket is matched', async () => {
  const searching = { ticket_id: 't1', status: 'searching' };
  const { fetch, calls } = scripted([[200, searching], [200, { ...searching, status: 'matched', seats: [SEAT] }]]);
  assert.deepEqual(await new GameServer('http://h', { fetch }).waitForSeat('t1', { intervalMs: 1 }), SEAT);
  assert.equal(calls.length, 2);
  const cancelled = scripted([[200, { ...searching, status: 'cancelled' }]]);
  await assert.rejects(new GameServer('http://h', { fetch: cancelled.fetch }).waitForSeat('t1'), /cancelled/);
});

test('a response body over 1 MiB is refused', async () => {
  const fetch = async () => new Response('x'.repeat(1024 * 1024 + 1), { status: 200 });
  await assert.rejects(new GameServer('http://h', { fetch }).listRooms(), /response over 1048576 bytes/);
});
