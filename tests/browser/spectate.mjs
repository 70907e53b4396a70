// Opens /spectate/{room} in headless Chromium, waits for the status to say live, checks that the
// canvas changes between two moments, and saves a screenshot.
//
// usage: node spectate.mjs BASE_URL ROOM_ID SCREENSHOT_PATH
import { chromium } from "playwright-core";

const [base, room, screenshot] = process.argv.slice(2);
if (!base || !room || !screenshot) {
  console.error("usage: node spectate.mjs BASE_URL ROOM_ID SCREENSHOT_PATH");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

const browser = await chromium.launch({
  executablePath,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
let failed = null;
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}/spectate/${room}`);
  await page.waitForFunction(() => document.getElementById("status").textContent === "live", null, { timeout: 10000 });
  await page.waitForFunction(() => Number(document.getElementById("players").textContent) > 0, null, { timeout: 10000 });
  const grab = () => page.evaluate(() => document.getElementById("view").toDataURL());
  const first = await grab();
  await page.waitForTimeout(700);
  const second = await grab();
  const status = await page.textContent("#status");
  const tick = await page.textContent("#tick");
  const rate = await page.textContent("#rate");
  await page.screenshot({ path: screenshot });
  if (errors.length) failed = `page errors: ${errors.join("; ")}`;
  else if (status !== "live") failed = `status is ${status}`;
  else if (first === second) failed = "the canvas did not change while players moved";
  console.log(JSON.stringify({ status, tick, rate, changed: first !== second, screenshot }));
} catch (e) {
  failed = String(e);
} finally {
  await browser.close();
}
if (failed) {
  console.error(`spectator page check failed: ${failed}`);
  process.exit(1);
}
