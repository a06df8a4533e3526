export * from "./accounts.ts";
export * from "./api-keys.ts";
export * from "./blocklist-entries.ts";
export * from "./ledger-events.ts";
export * from "./link-settings.ts";
export * from "./links.ts";
export * from "./sync-applied.ts";
