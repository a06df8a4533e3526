export * from "./address.ts";
export * from "./converge.ts";
export * from "./crypto.ts";
export * from "./decide-send.ts";
export * from "./errors.ts";
export * from "./ledger.ts";
export * from "./schemas.ts";
export * from "./scope.ts";
