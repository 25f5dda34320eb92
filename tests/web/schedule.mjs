// The schedule_server example's page in a real browser (Debian's Chromium, driven by
// playwright-core): sign in, add slots on two days, save, reload, an invalid slot, a silent token
// refresh past a short access lifetime, sign out. tests/example/browser.rs starts the server
// (`serve --access-lifetime 2`) and runs this script; it exits non-zero on the first failed step.
//
// Environment: BASE_URL, USERNAME, PASSWORD, ACCESS_LIFETIME (seconds), SCREENSHOT (a PNG path).
// Prints one line per step and, last, a JSON line {"refresh": …} with the refresh token the page
// held before signing out, which the Rust test then shows the API refuses.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const base = process.env.BASE_URL;
const username = process.env.USERNAME;
const password = process.env.PASSWORD;
const lifetime = Number(process.env.ACCESS_LIFETIME || "2");
const screenshot = process.env.SCREENSHOT;
assert.ok(base && username && password && screenshot, "BASE_URL, USERNAME, PASSWORD, SCREENSHOT");

const step = (what) => console.log("ok: " + what);
const profile = mkdtempSync(join(tmpdir(), "schedule-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

try {
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(10_000);

  // Everything the page logs as an error (a CSP violation included) fails the run.
  // (The API's own 4xx answers, expected below, are logged by Chromium as "Failed to load
  // resource"; they are checked through `calls` instead.)
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      problems.push("console: " + m.text());
    }
  });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  // The token and schedule calls the page makes, in order.
  const calls = [];
  page.on("response", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith("/api/")) {
      calls.push({ method: r.request().method(), path, status: r.status() });
    } else if (r.status() !== 200) {
      problems.push(`${r.status()} for ${path}`);
    }
  });
  const count = (path, status) =>
    calls.filter((c) => c.path === path && (status === undefined || c.status === status)).length;

  // --- The page, its CSP, signing in --------------------------------------------------------
  const first = await page.goto(base + "/");
  assert.equal(first.status(), 200);
  const csp = first.headers()["content-security-policy"] || "";
  assert.match(csp, /script-src 'self'/, csp);
  assert.doesNotMatch(csp, /unsafe-inline/, csp);
  step("page served with a CSP that forbids inline script");

  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("No active account found with the given credentials").waitFor();
  step("a wrong password shows the API's message");

  await page.getByLabel("Password").fill(password);
  await page.getByLabel("Password").press("Enter"); // the keyboard submits the form
  await page.getByText("Signed in as " + username).waitFor();
  assert.equal(await page.locator("#grid .day").count(), 7);
  step("signed in; the week has seven days");

  // --- Two slots on two days, saved, seen again after a reload -------------------------------
  const slot = (day, n) => page.getByRole("group", { name: `${day}, slot ${n}` });
  await page.getByRole("button", { name: "Add a slot on Monday" }).click();
  // The new slot's Start field has the focus: fill it and Tab through the others.
  await page.keyboard.type("09:00");
  await page.keyboard.press("Tab");
  await page.keyboard.type("10:30");
  await page.keyboard.press("Tab");
  await page.keyboard.type("1, 2");
  await page.getByRole("button", { name: "Add a slot on Wednesday" }).click();
  await slot("Wednesday", 1).getByLabel("Start").fill("14:00");
  await slot("Wednesday", 1).getByLabel("Stop").fill("15:15");
  await slot("Wednesday", 1).getByLabel("Ids").fill("3");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  assert.equal(count("/api/weekly_schedule/", 201), 1);
  step("two slots on Monday and Wednesday saved (201)");

  await page.screenshot({ path: screenshot, fullPage: true });
  step("screenshot of the grid saved to " + screenshot);

  await page.reload();
  await page.getByText("Signed in as " + username).waitFor();
  await slot("Monday", 1).waitFor();
  assert.equal(await slot("Monday", 1).getByLabel("Start").inputValue(), "09:00");
  assert.equal(await slot("Monday", 1).getByLabel("Stop").inputValue(), "10:30");
  assert.equal(await slot("Monday", 1).getByLabel("Ids").inputValue(), "1, 2");
  assert.equal(await slot("Wednesday", 1).getByLabel("Start").inputValue(), "14:00");
  assert.equal(await slot("Wednesday", 1).getByLabel("Stop").inputValue(), "15:15");
  assert.equal(await slot("Wednesday", 1).getByLabel("Ids").inputValue(), "3");
  assert.equal(await page.locator("#grid .slot").count(), 2);
  assert.equal(count("/api/token/"), 2, "no new sign-in after the reload (two tries before it)");
  step("after a reload, still signed in, both slots shown");

  // --- An invalid slot: the API's message next to the field ---------------------------------
  await page.getByRole("button", { name: "Add a slot on Friday" }).click();
  await slot("Friday", 1).getByLabel("Start").fill("12:00");
  await slot("Friday", 1).getByLabel("Stop").fill("11:00");
  await slot("Friday", 1).getByLabel("Ids").fill("4");
  await page.getByRole("button", { name: "Save" }).click();
  const stop = slot("Friday", 1).getByLabel("Stop");
  await page.waitForFunction(() => document.querySelector('input[aria-invalid="true"]') !== null);
  assert.equal(await stop.getAttribute("aria-invalid"), "true");
  const describedBy = await stop.getAttribute("aria-describedby");
  assert.equal(
    (await page.locator("#" + describedBy).textContent()).trim(),
    "stop must be later than start.",
  );
  assert.equal(count("/api/weekly_schedule/", 400), 1);
  step("stop before start: the API's message next to the Stop field (400)");

  // --- Past the access lifetime, the page refreshes its token by itself ---------------------
  const refreshesBefore = count("/api/token/refresh/", 200);
  await page.waitForTimeout((lifetime + 1.5) * 1000);
  assert.ok(
    count("/api/token/refresh/", 200) > refreshesBefore,
    "a refresh while waiting: " + JSON.stringify(calls),
  );
  await slot("Friday", 1).getByRole("button", { name: "Remove Friday slot 1" }).click();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  assert.equal(count("/api/weekly_schedule/", 201), 2);
  assert.equal(count("/api/weekly_schedule/", 401), 0, "the token was renewed before it expired");
  assert.equal(count("/api/token/"), 2, "no sign-in since");
  assert.ok(await page.getByText("Signed in as " + username).isVisible());
  step(`after ${lifetime + 1.5} s the page had refreshed its token; a save succeeded without a sign-in`);

  // --- Signing out ----------------------------------------------------------------------------
  const refresh = await page.evaluate(() => sessionStorage.getItem("schedule.refresh"));
  assert.ok(refresh && refresh.split(".").length === 3, "a refresh token in sessionStorage");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("Signed out.").waitFor();
  assert.ok(await page.getByRole("button", { name: "Sign in" }).isVisible());
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.equal(count("/api/token/blacklist/", 200), 1);
  await page.reload();
  assert.ok(await page.getByRole("button", { name: "Sign in" }).isVisible());
  step("signed out: the refresh token blacklisted, nothing left in sessionStorage");

  assert.deepEqual(problems, []);
  console.log(JSON.stringify({ refresh }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
