// The SDK against a real server's REST rate limit (tests/sdk.rs starts it with a small one):
//   SDK_E2E_URL=http://127.0.0.1:PORT node protocol/js/e2e/throttle.mjs
// Two quick calls: the second gets 429 and the SDK retries after Retry-After. Then a client that
// may not retry gets the 429 as a ServerError. Prints a JSON summary.
import { GameServer, ServerError } from '../game-client.js';

const url = process.env.SDK_E2E_URL;
if (!url) throw new Error('set SDK_E2E_URL to the server base URL');
const statuses = [];
const counting = async (...args) => {
  const res = await fetch(...args);
  statuses.push(res.status);
  return res;
};

const server = new GameServer(url, { fetch: counting });
await server.listRooms();
const start = performance.now();
const rooms = await server.listRooms();
const waitedMs = performance.now() - start;

let refused = null;
try {
  await new GameServer(url, { maxRetries: 0 }).listRooms();
  await new GameServer(url, { maxRetries: 0 }).listRooms();
} catch (e) {
  refused = e instanceof ServerError ? { status: e.status, code: e.code, retry_after_ms: e.retryAfterMs } : { other: String(e) };
}
console.log(JSON.stringify({ statuses, rooms: Array.isArray(rooms), waited_ms: waitedMs, refused }));
