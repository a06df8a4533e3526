// Writes a generated file the way every generator here does: formatted by biome (so it passes
// `biome check .` as committed), written only when it changed, and with `--check` on the command
// line not written at all: the run fails instead, naming the command that regenerates it.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** biome's formatting; `relativePath` (under the repository root) picks the language. */
function biomeFormat(relativePath, content) {
  const biome = createRequire(`${ROOT}package.json`).resolve("@biomejs/biome/bin/biome");
  return execFileSync(process.execPath, [biome, "format", `--stdin-file-path=${relativePath}`], {
    cwd: ROOT,
    input: content,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * @param {string} relativePath the file, under the repository root
 * @param {string} content what it should hold, before formatting
 * @param {string} regenerate the command that writes it, for the `--check` failure
 */
export function writeGeneratedFile(relativePath, content, regenerate) {
  const formatted = biomeFormat(relativePath, content);
  const path = join(ROOT, relativePath);
  if (existsSync(path) && readFileSync(path, "utf8") === formatted) {
    console.log(`${relativePath} is up to date`);
  } else if (process.argv.includes("--check")) {
    console.error(`${relativePath} is stale: run \`${regenerate}\` and commit it`);
    process.exit(1);
  } else {
    writeFileSync(path, formatted);
    console.log(`wrote ${relativePath}`);
  }
}
