import type { Logger } from "./log.ts";

/**
 * SIGTERM/SIGINT ask for a graceful stop: the returned signal aborts, the work loop lets the
 * batch in flight commit and returns. If that takes longer than `timeoutMs`, the process exits
 * with 1 — safe, since an uncommitted batch is simply fetched again next time. A second signal
 * exits at once for the same reason.
 */
export function handleShutdownSignals(
  log: Logger,
  timeoutMs: number,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log.warn(
        { signal: name },
        "second stop signal: exiting now; the batch in flight, if any, is rolled back",
      );
      process.exit(1);
    }
    log.info({ signal: name, timeoutMs }, "stopping: letting the batch in flight commit");
    controller.abort();
    setTimeout(() => {
      log.error(
        { timeoutMs },
        "shutdown took too long: exiting; the batch in flight, if any, is rolled back",
      );
      process.exit(1);
    }, timeoutMs).unref();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    },
  };
}
