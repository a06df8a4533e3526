#!/usr/bin/env node
// CI: every drizzle schema is fully migrated. For each package below:
//   1. Its migrations folder is consistent: each `NNNN_name.sql` has its `_journal.json` entry and
//      `meta/NNNN_snapshot.json`, and the snapshots chain (each prevId is the previous one's id). A
//      hand-written migration without them is what this catches: drizzle-kit would re-emit it.
//   2. `drizzle-kit generate` (the package's own config, offline: no database) run into a temp
//      copy of that folder writes nothing: the schema in TypeScript is what the migrations build.
// The real migrations folders are only read. About 5 s.
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
// `out` must match the package's drizzle.config.ts (the wrapper config below fails if it does not).
const PACKAGES = [
  { name: "@optout/edge", dir: "apps/edge", out: "migrations" },
  { name: "@optout/sync", dir: "apps/sync", out: "drizzle" },
];
const FIRST_PREV_ID = "00000000-0000-0000-0000-000000000000";
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

/** Problems with the folder's meta (step 1), as sentences. */
function metaProblems(folder) {
  const problems = [];
  const journal = JSON.parse(readFileSync(join(folder, "meta/_journal.json"), "utf8"));
  const tags = journal.entries.map((entry) => entry.tag);
  for (const file of readdirSync(folder).filter((name) => name.endsWith(".sql"))) {
    if (!tags.includes(file.slice(0, -4))) problems.push(`${file} has no entry in meta/_journal.json`);
  }
  let prevId = FIRST_PREV_ID;
  for (const [i, entry] of journal.entries.entries()) {
    if (entry.idx !== i) problems.push(`journal entry ${entry.tag} has idx ${entry.idx}, not ${i}`);
    if (!existsSync(join(folder, `${entry.tag}.sql`))) problems.push(`${entry.tag}.sql is missing`);
    const snapshotFile = join(folder, `meta/${entry.tag.split("_")[0]}_snapshot.json`);
    if (!existsSync(snapshotFile)) {
      problems.push(`meta/${entry.tag.split("_")[0]}_snapshot.json is missing`);
      prevId = null;
      continue;
    }
    const snapshot = JSON.parse(readFileSync(snapshotFile, "utf8"));
    if (prevId !== null && snapshot.prevId !== prevId) {
      problems.push(
        `meta snapshot of ${entry.tag} has prevId ${snapshot.prevId}, not the previous id ${prevId}`,
      );
    }
    prevId = snapshot.id;
  }
  return problems;
}

/** Runs `drizzle-kit generate` for one package into a temp copy of its migrations (step 2). */
function generate({ dir, out }) {
  const cwd = join(ROOT, dir);
  const work = mkdtempSync(join(tmpdir(), "optout-migrations-check-"));
  const copy = join(work, out);
  cpSync(join(cwd, out), copy, { recursive: true });
  const before = new Set(readdirSync(copy, { recursive: true }));
  // drizzle-kit reads `out` as relative to its cwd (an absolute one fails), and refuses `--out`
  // next to `--config`: a config that is the package's own with `out` moved.
  const config = join(work, "drizzle.config.ts");
  writeFileSync(
    config,
    `import base from ${JSON.stringify(join(cwd, "drizzle.config.ts"))};\n` +
      `if (base.out.replace(/^\\.\\//, "") !== ${JSON.stringify(out)}) {\n` +
      `  throw new Error("check-migrations: ${dir}/drizzle.config.ts's out is " + base.out + ", not ${out}: update scripts/check-migrations.mjs");\n` +
      "}\n" +
      `export default { ...base, out: ${JSON.stringify(relative(cwd, copy))} };\n`,
  );
  return new Promise((resolve) => {
    const child = execFile(
      join(cwd, "node_modules/.bin/drizzle-kit"),
      ["generate", "--config", config, "--name", "check_migrations"],
      // A prompt (drizzle-kit asks whether a column was renamed) means a change too; never wait on one.
      { cwd, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        const added = readdirSync(copy, { recursive: true }).filter((file) => !before.has(file));
        const sql = added
          .filter((file) => file.endsWith(".sql"))
          .map((file) => `--- ${file}\n${readFileSync(join(copy, file), "utf8")}`);
        rmSync(work, { recursive: true, force: true });
        resolve({ error, output: `${stdout}${stderr}`, added, sql });
      },
    );
    child.stdin?.end();
  });
}

const results = await Promise.all(
  PACKAGES.map(async (pkg) => ({
    pkg,
    problems: metaProblems(join(ROOT, pkg.dir, pkg.out)),
    ...(await generate(pkg)),
  })),
);

let failed = false;
for (const { pkg, problems, error, output, added, sql } of results) {
  const where = `${pkg.name} (${pkg.dir}/${pkg.out})`;
  const fix = `\`cd ${pkg.dir} && npx drizzle-kit generate\` (pnpm --filter ${pkg.name} db:generate)`;
  if (problems.length) {
    failed = true;
    console.error(`check-migrations: ${where}: the migrations' meta is inconsistent:`);
    for (const problem of problems) console.error(`  - ${problem}`);
    console.error(
      "  A migration written by hand needs the journal entry and snapshot drizzle-kit writes: make it with " +
        `${fix}, then edit its SQL if you must.`,
    );
  }
  if (added.length) {
    failed = true;
    console.error(
      `check-migrations: ${where}: the schema is not fully migrated; drizzle-kit generate would add ` +
        `${added.join(", ")}:\n${sql.join("\n")}\n  Run ${fix}, review the SQL and commit it with its meta files.`,
    );
  } else if (/Interactive prompts require a TTY/.test(output)) {
    // drizzle-kit exits 0 here: only its output tells.
    failed = true;
    console.error(
      `check-migrations: ${where}: the schema is not fully migrated; drizzle-kit generate wants to ask ` +
        `whether a table or column was renamed or dropped. Run ${fix} in a terminal, review the SQL and commit it.`,
    );
  } else if (error) {
    failed = true;
    const why = error.killed ? "did not finish in 2 minutes" : "failed";
    console.error(
      `${output}\ncheck-migrations: ${where}: drizzle-kit generate ${why}; run ${fix} to see why.`,
    );
  } else if (!/No schema changes/.test(output)) {
    failed = true;
    console.error(
      `${output}\ncheck-migrations: ${where}: drizzle-kit generate said something unexpected (above).`,
    );
  }
}
if (failed) process.exit(1);
console.log(
  `check-migrations: ${PACKAGES.map((pkg) => pkg.name).join(", ")}: schemas fully migrated (${elapsed()})`,
);
