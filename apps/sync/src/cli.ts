import { parseArgs } from "node:util";
import { HELP } from "./commands/help.ts";
import { ConfigError, EXIT } from "./errors.ts";

const COMMANDS = [
  "run",
  "once",
  "status",
  "verify",
  "backfill",
  "block",
  "unblock",
  "import",
  "export",
] as const;
type Command = (typeof COMMANDS)[number];

/** Which options each command takes (besides --help). */
const COMMAND_OPTIONS: Record<Command, readonly string[]> = {
  run: [],
  once: [],
  status: ["json"],
  verify: ["json"],
  backfill: [],
  block: ["account", "address", "channel", "sender", "reason", "occurred-at"],
  unblock: ["account", "address", "channel", "sender", "reason", "occurred-at"],
  import: ["format", "edge", "key", "json"],
  export: ["format", "edge", "key", "output"],
};

/** Commands that talk to the edge as an account (its API key), not as the sync daemon. */
const ACCOUNT_COMMANDS: readonly Command[] = ["import", "export"];

function usageError(message: string, command?: Command): number {
  process.stderr.write(
    `optout-sync: ${message}\nRun 'optout-sync ${command ? `${command} ` : ""}--help' for usage.\n`,
  );
  return EXIT.usage;
}

const parse = (args: string[]) =>
  parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      json: { type: "boolean" },
      account: { type: "string" },
      address: { type: "string" },
      channel: { type: "string" },
      sender: { type: "string" },
      reason: { type: "string" },
      "occurred-at": { type: "string" },
      format: { type: "string" },
      edge: { type: "string" },
      key: { type: "string" },
      output: { type: "string", short: "o" },
    },
  });

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  const command = COMMANDS.find((c) => c === argv[0]);
  try {
    parsed = parse(argv);
  } catch (e) {
    return usageError((e as Error).message, command);
  }
  const { values, positionals } = parsed;
  if (positionals[0] === "help") {
    const topic = COMMANDS.find((c) => c === positionals[1]);
    process.stdout.write(`${HELP[topic ?? "main"]}\n`);
    return EXIT.ok;
  }
  if (!command || values.help) {
    if (values.help || positionals.length === 0) {
      process.stdout.write(`${HELP[command ?? "main"]}\n`);
      return positionals.length === 0 && !values.help ? EXIT.usage : EXIT.ok;
    }
    return usageError(`unknown command '${positionals[0]}' (commands: ${COMMANDS.join(", ")})`);
  }
  // `import FILE` takes the file; no other command takes an argument.
  const maxPositionals = command === "import" ? 2 : 1;
  if (positionals.length > maxPositionals)
    return usageError(`unexpected argument '${positionals[maxPositionals]}'`, command);
  for (const [name, value] of Object.entries(values)) {
    if (name === "help" || value === undefined) continue;
    if (!COMMAND_OPTIONS[command].includes(name)) {
      return usageError(`'${command}' takes no option --${name}`, command);
    }
  }

  // Loaded only now, so help and usage errors answer without loading drivers and the core.
  const [{ loadConfig }, { createLogger }] = await Promise.all([import("./config.ts"), import("./log.ts")]);
  try {
    // Every command but block/unblock talks to the edge: a missing token is reported with the rest.
    const config = loadConfig(process.env, process.cwd(), {
      requireSyncToken: command !== "block" && command !== "unblock" && !ACCOUNT_COMMANDS.includes(command),
    });
    // backfill, import and export show progress; per-batch log lines would only clutter it.
    const quiet = (command === "backfill" || ACCOUNT_COMMANDS.includes(command)) && !process.env.LOG_LEVEL;
    const log = createLogger(quiet ? "warn" : config.logLevel);
    switch (command) {
      case "run":
      case "once":
        return await (await import("./commands/sync.ts")).syncCommand(command, config, log);
      case "status":
        return await (await import("./commands/status.ts")).statusCommand(config, log, {
          json: values.json ?? false,
        });
      case "verify":
        return await (await import("./commands/verify.ts")).verifyCommand(config, log, {
          json: values.json ?? false,
        });
      case "backfill":
        return await (await import("./commands/backfill.ts")).backfillCommand(config, log);
      case "block":
      case "unblock":
        return await (await import("./commands/outbox.ts")).outboxCommand(command, values, config, log);
      case "import":
        return await (await import("./commands/import.ts")).importCommand(
          positionals[1],
          values,
          config,
          log,
        );
      case "export":
        return await (await import("./commands/export.ts")).exportCommand(values, config, log);
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`optout-sync: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`optout-sync: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(EXIT.failed);
  },
);
