import type { Channel, Scope } from "./schemas.ts";

/** A scope as one string, for keys and indexes: `account` or `sender:<sender>`. */
export function scopeKey(scope: Scope): string {
  switch (scope.type) {
    case "account":
      return "account";
    case "sender":
      return `sender:${scope.sender}`;
  }
}

export function parseScopeKey(key: string): Scope {
  if (key === "account") return { type: "account" };
  if (key.startsWith("sender:")) return { type: "sender", sender: key.slice("sender:".length) };
  throw new Error(`not a scope key: ${key}`);
}

/** The identity of one blocklist entry: everything that makes two entries different. */
export interface EntryIdentity {
  accountId: string;
  address: string;
  channel: Channel;
  scope: Scope;
}

export function entryKey(e: EntryIdentity): string {
  return JSON.stringify([e.accountId, e.address, e.channel, scopeKey(e.scope)]);
}
