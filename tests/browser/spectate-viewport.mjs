// Opens /spectate/{room} of a room with an interest radius in headless Chromium, waits for the
// viewport feed to be live, then drags the canvas with the mouse and with a finger (touch
// events through the DevTools protocol): each drag must make the page request the viewport
// feed of another rectangle. Any page or console error (such as a resource the CSP blocks)
// fails it. It prints a JSON report on stdout for the Rust test to check.
//
// usage: node spectate-viewport.mjs BASE_URL ROOM_ID SCREENSHOT_PATH
import { collectErrors, launchChromium } from "./chromium.mjs";

const [base, room, screenshot] = process.argv.slice(2);
if (!base || !room || !screenshot) {
  console.error("usage: node spectate-viewport.mjs BASE_URL ROOM_ID SCREENSHOT_PATH");
  process.exit(2);
}
const browser = await launchChromium();
let failed = null;
try {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 }, hasTouch: true });
  const page = await context.newPage();
  const errors = [];
  collectErrors(page, errors);
  // Every feed the page opens, by query ("" for the whole room).
  const feeds = [];
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.pathname === `/api/v1/rooms/${room}/events`) feeds.push(url.search.replace(/^\?/, ""));
  });
  const viewports = () => feeds.filter((q) => q !== "");
  const waitForViewports = async (n) => {
    const deadline = Date.now() + 10000;
    while (viewports().length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} viewport feeds, saw ${JSON.stringify(feeds)}`);
      await page.waitForTimeout(50);
    }
  };
  const live = () => page.waitForFunction(
    () => document.getElementById("status").textContent === "live", null, { timeout: 10000 });

  await page.goto(`${base}/spectate/${room}`);
  await waitForViewports(1);
  await live();
  // The overview counts the whole room's entities ("in view of all").
  await page.waitForFunction(() => /^\d+ of [1-9]/.test(document.getElementById("entities").textContent), null, { timeout: 10000 });
  const grab = () => page.evaluate(() => document.getElementById("view").toDataURL());
  const first = await grab();
  await page.waitForTimeout(700);
  const second = await grab();
  const shown = await page.$eval("#view", (c) => c.dataset.viewport);
  // What the canvas draws through the viewport, by kind (the legend counts the last frame).
  const drawn = await page.$$eval("#legend li", (items) =>
    Object.fromEntries(items.map((li) => [li.dataset.kind, Number(li.dataset.count)])));

  const box = await page.locator("#view").boundingBox();
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  // A mouse drag: the world follows the pointer, so the viewport moves the other way.
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  await page.mouse.move(cx - 200, cy + 100, { steps: 8 });
  await page.mouse.up();
  await waitForViewports(2);
  await live();
  const afterMouse = await page.$eval("#view", (c) => c.dataset.viewport);

  // A finger drag.
  const cdp = await context.newCDPSession(page);
  const touch = (type, points) => cdp.send("Input.dispatchTouchEvent", { type, touchPoints: points });
  await touch("touchStart", [{ x: cx, y: cy }]);
  for (let i = 1; i <= 8; i++) await touch("touchMove", [{ x: cx + 15 * i, y: cy - 10 * i }]);
  await touch("touchEnd", []);
  await waitForViewports(3);
  await live();
  const afterTouch = await page.$eval("#view", (c) => c.dataset.viewport);
  const entities = await page.textContent("#entities");
  await page.screenshot({ path: screenshot, fullPage: true });

  if (errors.length) failed = `page errors: ${errors.join("; ")}`;
  else if (first === second) failed = "the canvas did not change while players moved";
  console.log(JSON.stringify({
    feeds, shown, drawn, afterMouse, afterTouch, entities, changed: first !== second, screenshot,
  }));
} catch (e) {
  failed = String(e);
} finally {
  await browser.close();
}
if (failed) {
  console.error(`spectator viewport check failed: ${failed}`);
  process.exit(1);
}
