#!/usr/bin/env node
// The edge's browser tests drive a system Chromium (playwright-core cannot download browsers
// here). Before `pnpm test`, make sure one exists: use CHROMIUM_PATH or a known path; on a
// Debian/Ubuntu machine where we are root, install Debian's `chromium` package; otherwise
// stop with the one command a person needs to run.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(
  Boolean,
);
const found = candidates.find((p) => existsSync(p));
if (found) process.exit(0);

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (isRoot && existsSync("/usr/bin/apt-get")) {
  console.log("Chromium not found: installing Debian's chromium package for the browser tests…");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "chromium"], {
    stdio: "inherit",
    env,
  });
  if (existsSync("/usr/bin/chromium")) process.exit(0);
}
console.error(
  "The browser tests need Chromium. Install it (Debian/Ubuntu: `sudo apt-get install -y chromium`) " +
    "or set CHROMIUM_PATH to a Chromium binary, then run the tests again.",
);
process.exit(1);
