import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { ConfigError } from "../errors.ts";

/**
 * PGlite is PostgreSQL inside this process: two processes opening the same data directory
 * would corrupt it. A lock file holding the owner's pid keeps the second one out. A lock left
 * by a killed process (its pid is gone) is taken over, so `kill -9` never needs cleanup.
 */
export function acquirePgliteLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) rmSync(path);
        } catch {
          // Already gone; nothing to release.
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const owner = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new ConfigError(
          `the embedded database at ${dataDir} is in use by another optout-sync process (pid ${owner}); ` +
            "PGlite allows one process at a time — stop it, or set DATABASE_URL to use a PostgreSQL server",
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new ConfigError(`could not lock the embedded database at ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
