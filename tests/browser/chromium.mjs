// What every browser check shares: headless Chromium started the same way, and a page's errors
// (uncaught exceptions, and console errors such as a resource the CSP blocks) collected so that
// they fail the check. The favicon is not served: its 404 is expected and ignored.
import { chromium } from "playwright-core";

/** Starts headless Chromium from $CHROMIUM (default /usr/bin/chromium). */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/** Pushes every error of `page` onto `errors`, each prefixed with `prefix`. */
export function collectErrors(page, errors, prefix = "") {
  page.on("pageerror", (e) => errors.push(`${prefix}${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.location().url.endsWith("/favicon.ico")) errors.push(`${prefix}${m.text()}`);
  });
}
