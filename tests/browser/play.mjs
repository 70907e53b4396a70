// Plays /play in headless Chromium and prints a JSON report on stdout (its last line) for the
// Rust test (tests/play.rs) to check. Any page or console error fails it.
//
// usage: node play.mjs SCENARIO PAGE_BASE API_BASE SCREENSHOT_PATH
//   PAGE_BASE: where the page is loaded from (a proxy in front of the server);
//   API_BASE: the server itself, for the authoritative position from its spectator feed;
//   SCREENSHOT_PATH: where the scenario's first page is saved at the end (and the play
//   scenario's phone page, beside it with -phone before .png).
// Scenarios:
//   play     two pages in one coins room: a held arrow key moves the local player on screen and
//            on the server; a finger dragged on the second page (a touch screen) moves its
//            player, and steered to a coin it takes it, which the other page logs and scores;
//            each page sees the other; after the test cuts the connections
//            (it prints CUT and waits for a line on stdin), the pages resume as the same players.
//   latency  one page behind a slow proxy: the key press moves the player in the first animation
//            frame, and after the release the prediction ends where the server says.
//   snippet  the README's page (the file $PLAY_SNIPPET) joins and an arrow key moves its player.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { collectErrors, launchChromium } from "./chromium.mjs";

const [scenario, pageBase, apiBase, screenshot] = process.argv.slice(2);
if (!scenario || !pageBase || !apiBase || !screenshot) {
  console.error("usage: node play.mjs SCENARIO PAGE_BASE API_BASE SCREENSHOT_PATH");
  process.exit(2);
}
const lines = createInterface({ input: process.stdin });
const stdin = lines[Symbol.asyncIterator]();
const errors = [];
// Generous, for liveness only: the test machine may be busy.
const TIMEOUT = { timeout: 30000 };
// What the scenario is doing, named in the failure message.
let step = "starting";
const at = (what) => { step = what; };

// A new page whose errors (by `name`) fail the check.
async function open(browser, name, options = {}) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, ...options });
  collectErrors(page, errors, `${name}: `);
  return page;
}

// Opens /play (on a phone's touch screen when `touch`; else from the room list's link), joins
// `mode` as `name`; returns the page and its player's id, room and bounds.
async function join(browser, name, mode, touch = false) {
  at(`${name} joins ${mode}`);
  const phone = { hasTouch: true, isMobile: true, viewport: { width: 390, height: 844 } };
  const page = await open(browser, name, touch ? phone : {});
  if (touch) {
    await page.goto(`${pageBase}/play`);
  } else {
    await page.goto(`${pageBase}/`);
    await Promise.all([page.waitForURL(`${pageBase}/play`), page.click('a[href="/play"]')]);
  }
  await page.fill("#name", name);
  await page.fill("#mode", mode);
  await page.click("#go");
  await page.waitForFunction(() => window.__play.room !== null && window.__play.drawn.size > 0, null, TIMEOUT);
  const me = await page.evaluate(() => ({
    id: window.__play.room.playerId, room: window.__play.room.roomId, bounds: window.__play.bounds,
  }));
  return { page, ...me };
}

// The local player: where the SDK predicts it (quanta) and where the page last drew it (pixels).
const local = (page) => page.evaluate(() => {
  const p = window.__play;
  return { predicted: p.room.predicted(), drawn: p.drawn.get(p.room.playerId) ?? null, frames: p.frames };
});

// Holds `key` for `ms`; returns the player before, in the first animation frame after the key
// went down, and at the release.
async function hold(page, key, ms) {
  await page.evaluate(() => {
    const p = window.__play;
    window.__probe = {
      before: p.room.predicted(), drawn: p.drawn.get(p.room.playerId), frames: p.frames, first: null,
    };
    window.addEventListener("keydown", () => requestAnimationFrame(() => {
      window.__probe.first = {
        predicted: p.room.predicted(), drawn: p.drawn.get(p.room.playerId), frames: p.frames,
      };
    }), { once: true });
  });
  await page.keyboard.down(key);
  await page.waitForTimeout(ms);
  const held = await local(page);
  await page.keyboard.up(key);
  return { ...(await page.evaluate(() => window.__probe)), held };
}

// Waits until the server acknowledged every input the page sent and a few frames followed.
async function settle(page) {
  await page.waitForFunction(() => {
    const p = window.__play;
    return p.pump.timer === null && p.room.world.ack >= p.pump.lastSeq;
  }, null, TIMEOUT);
  const tick = await page.evaluate(() => window.__play.room.tick);
  await page.waitForFunction((t) => window.__play.room.tick >= t + 3, tick, TIMEOUT);
}

// The player's position in the server's spectator feed (its first snapshot).
async function authoritative(room, id) {
  const res = await fetch(`${apiBase}/api/v1/rooms/${room}/events`, { signal: AbortSignal.timeout(TIMEOUT.timeout) });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return null;
      text += decoder.decode(value, { stream: true });
      const m = text.match(/event: ?snapshot\r?\n(?:[a-z]+:.*\r?\n)*?data: ?(.*)\r?\n/);
      if (m) {
        const snapshot = JSON.parse(m[1]);
        const e = snapshot.entities.find((e) => e.id === id);
        return e ? { x: e.x, y: e.y, width: snapshot.width } : null;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

// Presses the arrow key that leads away from the nearer side wall, so that the move is not
// clamped: ArrowRight in the left half.
async function move(player, ms) {
  const start = (await local(player.page)).predicted;
  const right = start.x <= player.bounds.width / 2;
  at(`player ${player.id} holds an arrow key`);
  const press = await hold(player.page, right ? "ArrowRight" : "ArrowLeft", ms);
  at(`player ${player.id} settles after the key`);
  await settle(player.page);
  const end = (await local(player.page)).predicted;
  const server = await authoritative(player.room, player.id);
  return { key: right ? "ArrowRight" : "ArrowLeft", sign: right ? 1 : -1, ...press, end, server };
}

// Drags a finger on the canvas from its middle, 60 px away from the nearer side wall, for `ms`;
// returns the player before and after, the server's position and the pointer type seen.
async function drag(player, ms) {
  const { page } = player;
  const before = (await local(page)).predicted;
  const sign = before.x <= player.bounds.width / 2 ? 1 : -1;
  await page.evaluate(() => window.addEventListener("pointerdown", (e) => { window.__pointer = e.pointerType; }, { once: true }));
  const box = await page.locator("#view").boundingBox();
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  at(`player ${player.id} drags a finger`);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x, y }] });
  for (let step = 1; step <= 6; step++) {
    await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x: x + sign * 10 * step, y }] });
  }
  await page.waitForTimeout(ms);
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  at(`player ${player.id} settles after the drag`);
  await settle(page);
  const end = (await local(page)).predicted;
  const server = await authoritative(player.room, player.id);
  return { sign, before, end, server, pointer: await page.evaluate(() => window.__pointer) };
}

// Steers the player with a finger towards the nearest coin until its page logs a CoinTaken.
async function chaseCoin(player) {
  at(`player ${player.id} chases a coin`);
  const { page } = player;
  const box = await page.locator("#view").boundingBox();
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [{ x, y }] });
  try {
    for (const end = Date.now() + TIMEOUT.timeout; ;) {
      if (Date.now() > end) throw new Error("no coin taken in time");
      const aim = await page.evaluate(() => {
        if (document.querySelector('#events li[data-event="CoinTaken"]')) return null;
        const me = window.__play.views.find((v) => v.me);
        const far = (c) => Math.hypot(c.x - me.x, c.y - me.y);
        const coin = window.__play.views.filter((v) => v.kind === "coin" && v.x !== null)
          .reduce((a, b) => (a === null || far(b) < far(a) ? b : a), null);
        return coin ? { x: (coin.x - me.x) / (far(coin) || 1), y: (coin.y - me.y) / (far(coin) || 1) } : { x: 0, y: 0 };
      });
      if (aim === null) break;
      // y grows upwards in the world and downwards on the screen.
      await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x: x + aim.x * 60, y: y - aim.y * 60 }] });
      await page.waitForTimeout(50);
    }
  } finally {
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  }
}

async function playScenario(browser) {
  const ann = await join(browser, "ann", "coins");
  const moved = await move(ann, 500);
  const bob = await join(browser, "bob", "coins", true);
  const sees = (page, id) => page.waitForFunction((id) => window.__play.views.some((v) => v.id === id && v.x !== null), id, TIMEOUT);
  at("the pages see each other");
  await sees(ann.page, bob.id);
  await sees(bob.page, ann.id);
  await ann.page.waitForFunction(() => document.getElementById("scores").textContent.includes("bob"), null, TIMEOUT);
  const touched = await drag(bob, 400);
  await chaseCoin(bob);
  at("the other page logs the coin taken and scores it");
  await ann.page.waitForFunction(() => [...document.querySelectorAll('#events li[data-event="CoinTaken"]')]
    .some((li) => li.textContent.includes("player bob")), null, TIMEOUT);
  await ann.page.waitForFunction(() => [...document.querySelectorAll("#scores tr")]
    .some((tr) => tr.children[0].textContent === "bob" && Number(tr.children[1].textContent) > 0), null, TIMEOUT);
  const events = await ann.page.$$eval("#events li", (items) => items.map((li) => li.textContent));
  const scores = await ann.page.$$eval("#scores tr", (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
  await ann.page.screenshot({ path: screenshot, fullPage: true });
  await bob.page.screenshot({ path: screenshot.replace(/\.png$/, "-phone.png"), fullPage: true });
  const hud = await ann.page.evaluate(() => Object.fromEntries(
    ["status", "ping", "tick", "players", "desyncs", "round"].map((id) => [id, document.getElementById(id).textContent])));
  // The network dies: the test cuts every connection through the proxy.
  at("the connections are cut");
  console.log("CUT");
  await stdin.next();
  const resumed = async (p) => {
    at(`player ${p.id} resumes`);
    await p.page.waitForFunction(() => window.__play.room.resumes >= 1, null, TIMEOUT);
    const tick = await p.page.evaluate(() => window.__play.room.tick);
    await p.page.waitForFunction((t) => window.__play.room.tick > t + 3, tick, TIMEOUT);
    return p.page.evaluate(() => ({ id: window.__play.room.playerId, resumes: window.__play.room.resumes, status: document.getElementById("status").textContent }));
  };
  const after = { ann: await resumed(ann), bob: await resumed(bob) };
  const again = await move(ann, 300);
  return {
    ann: { id: ann.id, room: ann.room }, bob: { id: bob.id, room: bob.room },
    moved, touched, events, scores, hud, after, again,
  };
}

async function latencyScenario(browser) {
  const ann = await join(browser, "ann", "default");
  await ann.page.waitForFunction(() => window.__play.room.pingMs !== null, null, TIMEOUT);
  const moved = await move(ann, 500);
  const ping = await ann.page.evaluate(() => window.__play.room.pingMs);
  await ann.page.screenshot({ path: screenshot });
  return { ann: { id: ann.id, room: ann.room }, moved, ping };
}

// The README's page (its file in $PLAY_SNIPPET), served as the README says, from an origin of
// its own (the server allows it with --cors-origin): it joins, shows its room and player, and
// the arrow key moves the player on the server.
async function snippetScenario(browser) {
  const html = readFileSync(process.env.PLAY_SNIPPET, "utf8");
  const site = createServer((_, res) => res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html));
  await new Promise((ok) => site.listen(0, "127.0.0.1", ok));
  try {
    const page = await open(browser, "readme");
    at("the README's page joins");
    await page.goto(`http://127.0.0.1:${site.address().port}/`);
    const shown = /room #(\d+), player #(\d+)/;
    await page.waitForFunction((re) => new RegExp(re).test(document.getElementById("hud").textContent), shown.source, TIMEOUT);
    const [room, id] = (await page.textContent("#hud")).match(shown).slice(1).map(Number);
    const before = await authoritative(room, id);
    const sign = before.x <= before.width / 2 ? 1 : -1;
    const key = sign > 0 ? "ArrowRight" : "ArrowLeft";
    at("the README's page moves");
    await page.keyboard.down(key);
    await page.waitForTimeout(500);
    await page.keyboard.up(key);
    await page.waitForTimeout(500);
    const after = await authoritative(room, id);
    await page.screenshot({ path: screenshot });
    return { room, id, key, sign, before, after };
  } finally {
    site.close();
  }
}

const browser = await launchChromium();
let failed = null;
try {
  const run = { play: playScenario, latency: latencyScenario, snippet: snippetScenario }[scenario];
  if (!run) throw new Error(`unknown scenario ${scenario}`);
  const report = await run(browser);
  if (errors.length) failed = `page errors: ${errors.join("; ")}`;
  console.log(JSON.stringify(report));
} catch (e) {
  failed = `while ${step}: ${e.stack ?? e}; page errors: ${errors.join("; ")}`;
} finally {
  lines.close(); // else stdin keeps node running
  await browser.close();
}
if (failed) {
  console.error(`play page check failed: ${failed}`);
  process.exit(1);
}
