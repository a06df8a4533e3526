import { describe, expect, it } from "vitest";
import { formatProgress } from "../src/commands/backfill.ts";

describe("backfill progress", () => {
  it.each([
    {
      name: "a bar on a terminal",
      tty: true,
      out: "\r[###############---------------]  50% 50,000/100,000 changes, 10,000/s, ETA 5 s\u001b[K",
    },
    {
      name: "a plain line otherwise",
      tty: false,
      out: "backfill: 50% 50,000/100,000 changes, 10,000/s, ETA 5 s\n",
    },
  ])("$name", ({ tty, out }) => {
    expect(formatProgress(50_000, 100_000, 10_000, tty)).toBe(out);
  });

  it("ends at 100% without an ETA", () => {
    expect(formatProgress(7, 7, 3, false)).toBe("backfill: 100% 7/7 changes, 3/s\n");
  });
});
