#!/usr/bin/env node
// CI: the published packages, as a stranger installs them. Packs @optout/core and @optout/client
// with pnpm (prepack builds dist/; pnpm applies publishConfig and turns catalog:/workspace: into
// versions), checks each tarball, installs both into a blank Node ESM project (package.json
// "type": "module") from the local pnpm store — offline; the registry only if the store lacks a
// dependency — then typechecks a TypeScript consumer against the shipped .d.ts and runs a
// JavaScript one: normalizeAddress, decideSend, verifyChain, and a client call against a stand-in
// server. Anything missing fails the run with a message that says what.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PNPM_VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).packageManager.split(
  "@",
)[1];
const PACKAGES = [{ name: "@optout/core" }, { name: "@optout/client" }];
const started = Date.now();
const work = mkdtempSync(join(tmpdir(), "optout-pack-check-"));
let failed = false;

const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

function fail(message) {
  console.error(`check-pack: ${message}`);
  failed = true;
}

/** Runs a command; its output is shown only when it fails (pnpm pack lists every file). */
function run(command, args, options = {}) {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...options });
  } catch (error) {
    console.error(`$ ${command} ${args.join(" ")}\n${error.stdout ?? ""}${error.stderr ?? ""}`);
    throw new Error(`\`${command} ${args[0] ?? ""}\` failed (exit ${error.status})`);
  }
}
const pnpm = (args, cwd) =>
  run("npx", ["-y", `pnpm@${PNPM_VERSION}`, ...args], {
    cwd,
    env: { ...process.env, npm_config_update_notifier: "false" },
  });

/** The catalog pins the lockfile resolved: what a packed dependency range must say. */
function lockfileCatalog() {
  const lockfile = readFileSync(join(ROOT, "pnpm-lock.yaml"), "utf8");
  const section = lockfile.split(/^catalogs:\n {2}default:\n/m)[1]?.split(/^\S/m)[0] ?? "";
  const pins = new Map();
  for (const m of section.matchAll(/^ {4}'?([^':\n]+)'?:\n {6}specifier: (\S+)\n {6}version: (\S+)/gm)) {
    pins.set(m[1], m[3].replace(/\(.*$/, ""));
  }
  return pins;
}

function checkTarball({ name }, tarball, catalog) {
  const files = new Set(run("tar", ["-tzf", tarball]).split("\n").filter(Boolean));
  const manifest = JSON.parse(run("tar", ["-xzOf", tarball, "package/package.json"]));
  const exported = manifest.exports?.["."];
  if (exported?.default !== "./dist/index.js" || exported?.types !== "./dist/index.d.ts") {
    fail(
      `${name}: exports["."] must point at ./dist/index.js and ./dist/index.d.ts, got ${JSON.stringify(exported)}`,
    );
  }
  for (const file of ["package.json", "README.md", "LICENSE", "dist/index.js", "dist/index.d.ts"]) {
    if (!files.has(`package/${file}`)) fail(`${name}: the tarball has no ${file}`);
  }
  const sources = [...files].filter((f) => f.startsWith("package/src/"));
  if (sources.length) fail(`${name}: the tarball ships sources (${sources[0]}, ...)`);
  // Every .js in dist has its declarations beside it.
  for (const file of files) {
    if (
      file.startsWith("package/dist/") &&
      file.endsWith(".js") &&
      !files.has(file.replace(/\.js$/, ".d.ts"))
    ) {
      fail(`${name}: ${file} has no .d.ts`);
    }
  }
  for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
    if (/^(catalog|workspace):/.test(range)) fail(`${name}: dependency ${dep} is still "${range}"`);
    else if (catalog.has(dep) && catalog.get(dep) !== range) {
      fail(`${name}: dependency ${dep}@${range} is not the lockfile's ${catalog.get(dep)}`);
    }
  }
  if (manifest.license !== "Apache-2.0") fail(`${name}: license is ${manifest.license}`);
  console.log(
    `  ${name}@${manifest.version}: ${files.size} files, deps ${JSON.stringify(manifest.dependencies ?? {})}`,
  );
}

const CONSUMER_TS = `import { decideSend, normalizeAddress, type NormalizedAddress, verifyChain } from "@optout/core";
import { type CheckResult, OptoutClient, OptoutError } from "@optout/client";

const phone: NormalizedAddress = normalizeAddress("(415) 555-0100", { defaultRegion: "US" });
const decision = decideSend([], { sender: "ACME", channel: "sms" });
const allowed: boolean = decision.allowed;
export const verified: Promise<{ ok: boolean }> = verifyChain([]);
const client = new OptoutClient({ baseUrl: "https://optout.example.com", apiKey: "sk_test_x" });
export const checked: Promise<CheckResult> = client.check({ address: phone.value, sender: "ACME", channel: "sms" });
export const isError = (e: unknown): e is OptoutError => e instanceof OptoutError;
export { allowed };

// Real types, not any: each of these must be an error.
// @ts-expect-error a number is not an address
normalizeAddress(4155550100);
// @ts-expect-error "fax" is not a channel
client.check({ address: "+14155550100", sender: "ACME", channel: "fax" });
`;

const CONSUMER_JS = `import assert from "node:assert/strict";
import { createServer } from "node:http";
import { GENESIS_HASH, decideSend, normalizeAddress, sealEvent, verifyChain } from "@optout/core";
import { OptoutClient, OptoutError } from "@optout/client";

const phone = normalizeAddress("(415) 555-0100", { defaultRegion: "US" });
assert.deepEqual(phone, { kind: "phone", value: "+14155550100" });
assert.deepEqual(normalizeAddress(" Jane@Example.com "), { kind: "email", value: "jane@example.com" });
assert.throws(() => normalizeAddress("not an address"), { code: "invalid_address" });

const at = "2026-01-01T00:00:00.000Z";
const entry = { address: phone.value, channel: "sms", scope: { type: "account" }, source: "api", occurredAt: at, seq: 1 };
assert.equal(decideSend([entry], { sender: "ACME", channel: "sms" }).allowed, false);
assert.equal(decideSend([entry], { sender: "ACME", channel: "email" }).allowed, true);

const base = { accountId: "acc_1", address: phone.value, channel: "sms", scope: { type: "account" }, source: "api",
  occurredAt: at, recordedAt: at, evidence: {} };
const first = await sealEvent({ ...base, seq: 1, id: "evt_1", action: "opt_out", prevHash: GENESIS_HASH });
const second = await sealEvent({ ...base, seq: 2, id: "evt_2", action: "opt_in", prevHash: first.hash });
assert.deepEqual(await verifyChain([first, second]), { ok: true, count: 2, head: second.hash });
assert.equal((await verifyChain([first, { ...second, channel: "email" }])).reason, "hash_mismatch");

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  assert.equal(req.headers.authorization, "Bearer sk_test_pack");
  const address = url.searchParams.get("address");
  if (address === "+14155550100") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ address, allowed: true }));
  } else {
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: "invalid_address", message: "not a phone number", requestId: "req_1" } }));
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
try {
  const client = new OptoutClient({ baseUrl: \`http://127.0.0.1:\${server.address().port}\`, apiKey: "sk_test_pack" });
  assert.deepEqual(await client.check({ address: phone.value, sender: "ACME", channel: "sms" }),
    { address: phone.value, allowed: true });
  const error = await client.check({ address: "nope", sender: "ACME", channel: "sms" }).catch((e) => e);
  assert.ok(error instanceof OptoutError, String(error));
  assert.equal(error.code, "invalid_address");
  assert.equal(error.requestId, "req_1");
} finally {
  server.close();
}
console.log("  normalizeAddress, decideSend, verifyChain (sealed chain ok, edited chain refused), OptoutClient: ok");
`;

try {
  const catalog = lockfileCatalog();
  if (catalog.size === 0) throw new Error("no catalog in pnpm-lock.yaml");
  const packs = join(work, "packs");
  mkdirSync(packs);
  console.log("pack (prepack builds dist/):");
  // One pnpm for both: their prepack builds run side by side.
  pnpm([...PACKAGES.flatMap((p) => ["--filter", p.name]), "pack", "--pack-destination", packs], ROOT);
  const tarballs = [];
  for (const pkg of PACKAGES) {
    const prefix = `${pkg.name.replace("@", "").replace("/", "-")}-`;
    const tarball = readdirSync(packs).find((f) => f.startsWith(prefix) && f.endsWith(".tgz"));
    if (!tarball) throw new Error(`pnpm pack made no tarball for ${pkg.name}`);
    checkTarball(pkg, join(packs, tarball), catalog);
    tarballs.push(join(packs, tarball));
  }

  const project = join(work, "consumer");
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    `${JSON.stringify({ name: "optout-pack-check", private: true, type: "module" }, null, 2)}\n`,
  );
  console.log(`install into a blank Node ESM project (at ${elapsed()}):`);
  try {
    pnpm(["add", "--offline", ...tarballs], project);
    console.log("  offline, from the local store");
  } catch {
    console.log("  the local store lacks a dependency: --prefer-offline (registry for what is missing)");
    pnpm(["add", "--prefer-offline", ...tarballs], project);
  }

  console.log(`typecheck a TypeScript consumer against the shipped declarations (at ${elapsed()}):`);
  writeFileSync(join(project, "consumer.ts"), CONSUMER_TS);
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        lib: ["es2023", "dom"],
        types: [],
        // The consumer's own code is checked with the packages' types (the @ts-expect-error lines
        // prove they are real, not any); the declarations of zod and libphonenumber-js are theirs.
        skipLibCheck: true,
      },
      files: ["consumer.ts"],
    }),
  );
  const tsc = createRequire(join(ROOT, "package.json")).resolve("typescript/bin/tsc");
  run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: project });
  console.log("  ok");

  console.log(`run a JavaScript consumer (at ${elapsed()}):`);
  writeFileSync(join(project, "consumer.mjs"), CONSUMER_JS);
  process.stdout.write(run(process.execPath, ["consumer.mjs"], { cwd: project }));
} catch (error) {
  fail(error.message);
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (failed) {
  console.error(`check-pack: FAILED after ${elapsed()}`);
  process.exit(1);
}
console.log(`check-pack: ok in ${elapsed()}`);
