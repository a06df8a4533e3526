// The benchmark's output: a table on stdout, and with BENCH_WRITE_DOCS=1 the edge section of
// BENCHMARKS.md (between its markers; the rest of the file belongs to others) and the ratio chart
// docs/img/bench-ratios.svg (hand-written SVG, no dependencies).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const START = "<!-- edge-bench:start (written by `BENCH_WRITE_DOCS=1 pnpm bench`) -->";
const END = "<!-- edge-bench:end -->";

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Per scenario: medians over rounds; the ratio is the median of each round's own ratio. */
export function summarize(result) {
  const of = (side, field) => median(result.rounds.map((r) => r[side][field]));
  const ratio = median(result.rounds.map((r) => r.ours.rps / r.ceiling.rps));
  const row = {
    ...result,
    rps: of("ours", "rps"),
    p50: of("ours", "p50"),
    p99: of("ours", "p99"),
    p999: of("ours", "p999"),
    ceilingRps: of("ceiling", "rps"),
    ceilingP99: of("ceiling", "p99"),
    ratio,
    bad: result.rounds.reduce((n, r) => n + r.ours.bad, 0),
  };
  const misses = [];
  if (result.goal.ratio !== undefined && ratio < result.goal.ratio)
    misses.push(`ratio < ${result.goal.ratio}`);
  if (result.goal.p99 !== undefined && row.p99 > row.ceilingP99 + result.goal.p99) {
    misses.push(`p99 > ceiling + ${result.goal.p99} ms`);
  }
  if (row.bad) misses.push(`${row.bad} non-2xx`);
  return { ...row, misses };
}

/**
 * The floor each scenario is held against: the ceiling plus the one storage operation the route
 * cannot do without (reads: one KV read, or one bulk read; changes: one D1 write transaction).
 */
const FLOOR_OF = {
  "check-blocked": "floor-kv",
  "check-clear": "floor-kv",
  page: "floor-kv",
  "check-batch": "floor-kv100",
  "api-add": "floor-d1-write",
  "one-click": "floor-d1-write",
  mo: "floor-d1-write",
  events: "floor-d1-write",
};

/** Each row's throughput as a share of its floor's (both ratios to the ceiling of their own rounds). */
function againstFloors(rows) {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return rows.map((r) => {
    const floor = byId.get(FLOOR_OF[r.id]);
    if (!floor) return r;
    const floorRatio = r.ratio / floor.ratio;
    const misses = [...r.misses];
    if (r.goal.floor !== undefined && floorRatio < r.goal.floor) misses.push(`floor share < ${r.goal.floor}`);
    return { ...r, floorRatio, floorLabel: floor.label.replace(/^floor: ceiling \+ /, ""), misses };
  });
}

const goalText = (g) =>
  [
    g.ratio !== undefined ? `≥ ${g.ratio}` : null,
    g.p99 !== undefined ? `p99 ≤ ceiling + ${g.p99} ms` : null,
    g.floor !== undefined ? `≥ ${g.floor} of its floor` : null,
  ]
    .filter(Boolean)
    .join(", ") || "—";

/** Per request, from the counting build: "2 (5) | 1 / 1". */
const storage = (c) => (c ? `${c.d1RoundTrips} (${c.d1Statements}) | ${c.kvReads} / ${c.kvWrites}` : "— | —");

export function markdownTable(rows) {
  const lines = [
    "| scenario | req/s | ceiling req/s | ratio | of its floor | p50 ms | p99 ms | p99.9 ms | ceiling p99 ms | D1 round trips (statements) | KV reads / writes | goal | met |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
  ];
  for (const r of rows) {
    const met = r.misses.length
      ? `**no** (${r.misses.join("; ")})`
      : r.reference
        ? "(reference)"
        : r.goal.ratio === undefined && r.goal.p99 === undefined && r.goal.floor === undefined
          ? "(no goal)"
          : "yes";
    lines.push(
      `| ${r.label.replace(/\|/g, "\\|")} | ${r.rps.toFixed(0)} | ${r.ceilingRps.toFixed(0)} | ${r.ratio.toFixed(2)} | ` +
        `${r.floorRatio === undefined ? "—" : `${r.floorRatio.toFixed(2)} (${r.floorLabel})`} | ` +
        `${r.p50} | ${r.p99} | ${r.p999} | ${r.ceilingP99} | ${storage(r.counts)} | ${goalText(r.goal)} | ${met} |`,
    );
  }
  return lines.join("\n");
}

const escapeXml = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Horizontal bars, one per scenario: the ratio to the ceiling, with the goal as a tick. */
export function ratioChart(rows, caption) {
  const labelWidth = 330;
  const barWidth = 420;
  const rowHeight = 30;
  const top = 44;
  const height = top + rows.length * rowHeight + 36;
  const width = labelWidth + barWidth + 70;
  const x = (ratio) => labelWidth + Math.min(ratio, 1.2) * (barWidth / 1.2);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">`,
    `<title>Edge throughput as a ratio to the runtime's ceiling</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="600" fill="#111">Throughput / ceiling (same run, higher is better)</text>`,
  ];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${x(tick)}" y1="${top - 6}" x2="${x(tick)}" y2="${top + rows.length * rowHeight}" stroke="#ddd"/>`,
      `<text x="${x(tick)}" y="${top + rows.length * rowHeight + 16}" text-anchor="middle" fill="#555">${tick}</text>`,
    );
  }
  rows.forEach((r, i) => {
    const y = top + i * rowHeight;
    const fill = r.reference ? "#8a8f98" : r.misses.length === 0 ? "#2f7d4f" : "#c0532b";
    parts.push(
      `<text x="${labelWidth - 10}" y="${y + 18}" text-anchor="end" fill="#111">${escapeXml(r.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 5}" width="${Math.max(1, x(r.ratio) - labelWidth).toFixed(1)}" height="18" fill="${fill}"/>`,
      `<text x="${(x(r.ratio) + 6).toFixed(1)}" y="${y + 18}" fill="#111">${r.ratio.toFixed(2)}</text>`,
    );
    if (r.goal.ratio !== undefined) {
      const gx = x(r.goal.ratio).toFixed(1);
      parts.push(`<line x1="${gx}" y1="${y + 2}" x2="${gx}" y2="${y + 26}" stroke="#111" stroke-width="2"/>`);
    }
  });
  parts.push(
    `<text x="12" y="${height - 8}" fill="#555">${escapeXml(caption)} · black tick = goal · green = goals met, red = not, grey = reference floors</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}

export function writeReport(report, { writeDocs }) {
  const rows = againstFloors(report.results.map(summarize));
  const table = markdownTable(rows);
  console.log(`\n${table}\n`);
  console.log(
    `[bench] ${report.machine.cpus} × ${report.machine.model}; load ${report.machine.loadAtStart.join(" ")} → ` +
      `${report.machine.loadAtEnd.join(" ")}; ${report.settings.connections} connections; ` +
      `${report.workerLogLines} worker log lines drained`,
  );
  if (!writeDocs) return;

  const svgPath = join(repoRoot, "docs", "img", "bench-ratios.svg");
  mkdirSync(dirname(svgPath), { recursive: true });
  writeFileSync(
    svgPath,
    ratioChart(
      rows,
      `${report.when.slice(0, 10)} · ${report.machine.cpus} vCPU · ${report.settings.connections} connections`,
    ),
  );

  const v = report.versions;
  const section = [
    START,
    "",
    `Run ${report.when.replace(/\.\d+Z$/, "Z")} on ${report.machine.cpus} × ${report.machine.model}; ` +
      `load average (1/5/15 min) ${report.machine.loadAtStart.join(" / ")} at the start, ` +
      `${report.machine.loadAtEnd.join(" / ")} at the end. Node ${v.node}, wrangler ${v.wrangler}, ` +
      `miniflare ${v.miniflare} (workerd ${v.workerd}), hono ${v.hono}, autocannon ${v.autocannon}. ` +
      `${report.settings.connections} connections, ${report.settings.rounds} rounds per scenario; read paths and ` +
      `the ceiling ${report.settings.seconds} s per round, write paths ${report.settings.writes} fresh requests per round. ` +
      "Figures are medians over the rounds; the ratio is the median of each round's own ratio.",
    "",
    table,
    "",
    "![Throughput as a ratio to the ceiling](docs/img/bench-ratios.svg)",
    "",
    END,
  ].join("\n");
  const mdPath = join(repoRoot, "BENCHMARKS.md");
  // Re-read right before writing: other sections of the file are written by other tools.
  const current = existsSync(mdPath) ? readFileSync(mdPath, "utf8") : "# Benchmarks\n";
  const at = current.indexOf(START);
  const end = current.indexOf(END);
  const next =
    at >= 0 && end > at
      ? current.slice(0, at) + section + current.slice(end + END.length)
      : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(mdPath, next);
  // The repository's formatter aligns markdown tables; format the file so `pnpm lint` stays clean.
  const biome = join(repoRoot, "node_modules", "@biomejs", "biome", "bin", "biome");
  if (existsSync(biome)) {
    spawnSync(process.execPath, [biome, "format", "--write", mdPath], { cwd: repoRoot, stdio: "ignore" });
  }
  console.log(`[bench] wrote ${svgPath} and the edge section of ${mdPath}`);
}
