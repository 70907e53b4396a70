// End to end against a real server (tests/sdk.rs starts it and runs this script):
//   SDK_E2E_URL=http://127.0.0.1:PORT node protocol/js/e2e/play.mjs
// Two players join a movement room with the SDK over `ws`; one walks towards the middle of the
// world for 2 s, one input per frame, stops, then loses its connection and resumes; a third
// plays the coins game meanwhile. Prints a JSON summary for the Rust test to check.
import WebSocket from 'ws';
import { GameServer, ServerError } from '../game-client.js';

const url = process.env.SDK_E2E_URL;
if (!url) throw new Error('set SDK_E2E_URL to the server base URL');
const WALK_MS = 2000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const server = new GameServer(url, { WebSocket });
let refused = null;
try {
  await server.joinOrCreate('Not A Mode', { name: 'sdk-e2e' });
} catch (e) {
  refused = e instanceof ServerError ? { status: e.status, code: e.code, message: e.message } : { other: String(e) };
}

// A coins room meanwhile: strings, an owner-only component and events, all decoded by schema.
const coinEvents = new Set();
const coins = await server.join(await server.joinOrCreate('coins', { name: 'sdk-coins' }), {
  on: { event: (ev) => coinEvents.add(ev.name) },
});
coins.on('frame', () => coins.sendInput({ move_x: 90, move_y: 40 }));

const walker = await server.join(await server.joinOrCreate('default', { name: 'sdk-walker' }));
const watcher = await server.join(await server.joinOrCreate('default', { name: 'sdk-watcher' }));
const start = walker.world.get(walker.playerId).pos;
const intent = {
  move_x: start.x < walker.bounds.width / 2 ? 127 : -127,
  move_y: start.y < walker.bounds.height / 2 ? 127 : -127,
};
let frames = 0;
let walking = true;
const stopFrames = walker.on('frame', () => {
  frames++;
  walker.sendInput(walking ? intent : { move_x: 0, move_y: 0 });
  if (!walking) stopFrames();
});
await sleep(WALK_MS);
walking = false;
// One stop input goes out; once it is acknowledged, prediction equals the server.
await sleep(500);
const end = walker.world.get(walker.playerId).pos;
const predicted = walker.predicted();
const seenByWatcher = watcher.interpolated(walker.playerId);

// The network dies under the walker (no close frame): the SDK resumes as the same player.
const resumed = new Promise((resolve) => walker.on('resume', resolve));
walker.ws.terminate();
const resume = await resumed;
const afterResume = walker.world.get(walker.playerId)?.pos ?? null;

const me = coins.world.get(coins.playerId);
const coinsSummary = {
  game: coins.schema.game,
  desyncs: coins.desyncs,
  kinds: [...new Set(coins.world.entities().map((e) => e.kindName))].sort(),
  nameplate: me?.get('Nameplate') ?? null,
  purse: me?.get('Purse') ?? null,
  events: [...coinEvents].sort(),
};

const rooms = [walker, watcher, coins];
const closes = rooms.map((room) => new Promise((resolve) => room.on('close', resolve)));
for (const room of rooms) room.leave();
const [walkerClose, watcherClose, coinsClose] = await Promise.all(closes);

console.log(JSON.stringify({
  refused,
  game: walker.schema.game,
  same_room: walker.roomId === watcher.roomId,
  frames,
  desyncs: walker.desyncs + watcher.desyncs,
  ping_ms: walker.pingMs,
  intent,
  start,
  end,
  predicted,
  pending: walker.pending.length,
  ack: walker.world.ack,
  seen_by_watcher: seenByWatcher,
  resumes: walker.resumes,
  resumed_after: resume.after.name,
  after_resume: afterResume,
  close: [walkerClose, watcherClose, coinsClose],
  coins: coinsSummary,
}));
