// Opens /spectate/{room} in headless Chromium, waits for the status to say live, checks that the
// canvas changes between two moments, reads what the page draws and lists (the legend's count of
// drawn entities by kind, the fields tables by kind), saves a screenshot, then checks that the
// room list at / shows the room; any page or console error (such as a resource the CSP blocks)
// fails it. It prints a JSON report on stdout for the Rust test to check.
//
// usage: node spectate.mjs BASE_URL ROOM_ID SCREENSHOT_PATH
import { collectErrors, launchChromium } from "./chromium.mjs";

const [base, room, screenshot] = process.argv.slice(2);
if (!base || !room || !screenshot) {
  console.error("usage: node spectate.mjs BASE_URL ROOM_ID SCREENSHOT_PATH");
  process.exit(2);
}
const browser = await launchChromium();
let failed = null;
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  const errors = [];
  collectErrors(page, errors);
  await page.goto(`${base}/spectate/${room}`);
  await page.waitForFunction(() => document.getElementById("status").textContent === "live", null, { timeout: 10000 });
  await page.waitForFunction(() => Number(document.getElementById("entities").textContent) > 0, null, { timeout: 10000 });
  const grab = () => page.evaluate(() => document.getElementById("view").toDataURL());
  const first = await grab();
  await page.waitForTimeout(700);
  const second = await grab();
  const status = await page.textContent("#status");
  const tick = await page.textContent("#tick");
  const rate = await page.textContent("#rate");
  // What the canvas draws, by kind (the legend counts what the last frame drew).
  const drawn = await page.$$eval("#legend li", (items) =>
    Object.fromEntries(items.map((li) => [li.dataset.kind, Number(li.dataset.count)])));
  // Every fields table: its kind, its column headers and its rows' cells.
  const tables = await page.$$eval("#tables section", (sections) => sections.map((s) => ({
    kind: s.dataset.kind,
    columns: [...s.querySelectorAll("th")].map((th) => th.textContent),
    rows: [...s.querySelectorAll("tr")].slice(1).map((tr) => [...tr.children].map((td) => td.textContent)),
  })));
  await page.screenshot({ path: screenshot, fullPage: true });
  // The room list (its own script, under the same policy) lists the room.
  await page.goto(`${base}/`);
  await page.waitForFunction((id) => document.getElementById("rooms").textContent.includes("#" + id), room, { timeout: 10000 });
  if (errors.length) failed = `page errors: ${errors.join("; ")}`;
  else if (status !== "live") failed = `status is ${status}`;
  else if (first === second) failed = "the canvas did not change while players moved";
  console.log(JSON.stringify({ status, tick, rate, changed: first !== second, drawn, tables, screenshot }));
} catch (e) {
  failed = String(e);
} finally {
  await browser.close();
}
if (failed) {
  console.error(`spectator page check failed: ${failed}`);
  process.exit(1);
}
