import { z } from "zod";
import { hmacSha256Hex, randomBase62, sha256Hex, timingSafeEqual } from "./crypto.ts";
import { DomainError } from "./errors.ts";
import { canonicalInstant } from "./instant.ts";
import { PAGE_LOCALES } from "./negotiate-locale.ts";
import type { LedgerChange } from "./plan-changes.ts";
import { Channel, type Evidence, Instant, RawAddress, Scope, Sender } from "./schemas.ts";
import type { TriggerEvent } from "./triggers/message-event.ts";

/**
 * Opt-out links: `/u/{code}`. The code is the only secret: whoever holds it can opt the address
 * out, so it is drawn from a CSPRNG and only its SHA-256 is stored.
 */

/** 12 base62 characters ≈ 71.5 bits: guessing one live code among a billion takes ~2^41 tries. */
export const LINK_CODE_DEFAULT_LENGTH = 12;
/** 11 characters ≈ 65.5 bits, the shortest that keeps at least 64 bits. */
export const LINK_CODE_MIN_LENGTH = 11;
export const LINK_CODE_MAX_LENGTH = 32;

/** A link code as it may appear in a URL. Anything else is answered 404 without a lookup. */
export const LINK_CODE_FORMAT = /^[0-9A-Za-z]{11,32}$/;

export const LinkCode = z.string().regex(LINK_CODE_FORMAT, "not a link code");
export type LinkCode = z.infer<typeof LinkCode>;

export function isLinkCode(value: string): boolean {
  return LINK_CODE_FORMAT.test(value);
}

/** A new link code: `length` base62 characters from a CSPRNG. Refuses lengths under 64 bits. */
export function mintLinkCode(length: number = LINK_CODE_DEFAULT_LENGTH): string {
  if (!Number.isInteger(length) || length < LINK_CODE_MIN_LENGTH || length > LINK_CODE_MAX_LENGTH) {
    throw new DomainError(
      "invalid_input",
      `link code length must be an integer from ${LINK_CODE_MIN_LENGTH} (64 bits) to ${LINK_CODE_MAX_LENGTH}`,
    );
  }
  return randomBase62(length);
}

/** What is stored and looked up: the code itself never reaches D1, KV, logs or the ledger. */
export function hashLinkCode(code: string): Promise<string> {
  return sha256Hex(code);
}

/** `${base}/u/${code}`; `base` is an origin with an optional path (a branded short domain). */
export function linkUrl(base: string, code: string): string {
  return `${base.replace(/\/+$/, "")}/u/${code}`;
}

export interface ListUnsubscribeHeaders {
  "List-Unsubscribe": string;
  "List-Unsubscribe-Post": "List-Unsubscribe=One-Click";
}

/**
 * The email headers for one-click unsubscribe (RFC 2369 + RFC 8058). Mailbox providers POST
 * `List-Unsubscribe=One-Click` to the URL; they only do so for HTTPS URLs, so `http:` is
 * accepted for local testing alone. An optional `mailto:` is listed after the URL, as a fallback
 * for clients without one-click. Values are rebuilt from parsed URLs, so nothing a caller passes
 * can break out of the `<...>` or the header line.
 */
export function listUnsubscribeHeaders(
  url: string,
  options: { mailto?: string } = {},
): ListUnsubscribeHeaders {
  const target = parseUrl(url, ["https:", "http:"], "unsubscribe URL");
  const parts = [`<${target}>`];
  if (options.mailto !== undefined) {
    const mail = options.mailto.startsWith("mailto:") ? options.mailto : `mailto:${options.mailto}`;
    parts.push(`<${parseUrl(mail, ["mailto:"], "mailto address")}>`);
  }
  return { "List-Unsubscribe": parts.join(", "), "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
}

function parseUrl(value: string, protocols: string[], what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new DomainError("invalid_input", `${what} is not a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new DomainError("invalid_input", `${what} must use ${protocols.join(" or ")}`);
  }
  // URL serialization percent-encodes spaces, control characters and `<>`; `,` separates entries.
  const href = parsed.href;
  if (/[\s<>,]/.test(href))
    throw new DomainError("invalid_input", `${what} contains characters not allowed in a header`);
  return href;
}

// ---------- the page's rules ----------

/**
 * How long after an opt-out the page offers to undo it. Short, because the undo token that makes
 * it possible is handed only to whoever just opted out (see `mintUndoToken`).
 */
export const UNDO_WINDOW_MS = 60 * 60 * 1000;

export function isLinkExpired(expiresAt: string | null | undefined, now: Date): boolean {
  return expiresAt != null && Date.parse(expiresAt) <= now.getTime();
}

export function canUndoOptOut(optedOutAt: string | null | undefined, now: Date): boolean {
  if (optedOutAt == null) return false;
  const elapsed = now.getTime() - Date.parse(optedOutAt);
  return elapsed >= 0 && elapsed < UNDO_WINDOW_MS;
}

/** What an undo token vouches for: this link's opt-out, the ledger event at `seq`. */
export interface UndoClaim {
  codeHash: string;
  seq: number;
}

const undoMessage = (claim: UndoClaim, expiresAt: number) =>
  `undo:${claim.codeHash}:${claim.seq}:${expiresAt}`;

/**
 * The token the confirmation page puts in its undo form: `expiresAt.mac`, a MAC under the
 * deployment's secret over the link, the opt-out event and the expiry. Only the response to the
 * request that made the opt-out carries it, so holding the link (as the sender who minted it
 * does) is not enough to reverse someone's opt-out, and another site cannot forge the form.
 */
export async function mintUndoToken(secret: string, claim: UndoClaim, optedOutAt: Date): Promise<string> {
  const expiresAt = optedOutAt.getTime() + UNDO_WINDOW_MS;
  return `${expiresAt}.${await hmacSha256Hex(secret, undoMessage(claim, expiresAt))}`;
}

/** Whether `token` was minted for this claim and is still valid at `now`. Constant-time MAC check. */
export async function verifyUndoToken(
  secret: string,
  token: string,
  claim: UndoClaim,
  now: Date,
): Promise<boolean> {
  const match = /^(\d{1,15})\.([0-9a-f]{64})$/.exec(token);
  if (!match) return false;
  const expiresAt = Number(match[1]);
  if (!(now.getTime() < expiresAt)) return false;
  return timingSafeEqual(await hmacSha256Hex(secret, undoMessage(claim, expiresAt)), match[2]!);
}

/**
 * The scopes the page offers, the link's own first (it is preselected). When the account lets the
 * page offer both, a sender-scoped link also offers "every message from the brand", and an
 * account-scoped link that names its sender also offers "only this sender".
 */
export function unsubscribeChoices(
  link: { scope: Scope; sender?: string | null },
  offerBoth: boolean,
): Scope[] {
  if (!offerBoth) return [link.scope];
  switch (link.scope.type) {
    case "sender":
      return [link.scope, { type: "account" }];
    case "account":
      return link.sender ? [link.scope, { type: "sender", sender: link.sender }] : [link.scope];
  }
}

// ---------- API payloads ----------

export const MAX_LINK_BATCH = 1000;

export const MintLinkInput = z
  .strictObject({
    address: RawAddress,
    channel: Channel.default("*"),
    scope: Scope.default({ type: "account" }),
    /** The sender the message goes out from; defaults to a sender scope's sender. */
    sender: Sender.optional(),
    campaign: z.string().trim().min(1).max(200).optional(),
    /** The business's own message id, kept as evidence with the opt-out. */
    messageId: z.string().trim().min(1).max(200).optional(),
    /** After this instant the link answers 410 Gone. */
    expiresAt: Instant.optional(),
  })
  .refine((v) => v.scope.type !== "sender" || v.sender === undefined || v.sender === v.scope.sender, {
    message: "sender must equal scope.sender when the scope is a sender",
    path: ["sender"],
  });
export type MintLinkInput = z.infer<typeof MintLinkInput>;

export const MintLinkBatchInput = z.strictObject({
  items: z.array(MintLinkInput).min(1).max(MAX_LINK_BATCH),
});
export type MintLinkBatchInput = z.infer<typeof MintLinkBatchInput>;

export const MintLinkResult = z.object({
  code: LinkCode,
  url: z.url(),
  expiresAt: Instant.nullable(),
});
export type MintLinkResult = z.infer<typeof MintLinkResult>;

export const MintLinkBatchResult = z.object({ items: z.array(MintLinkResult) });
export type MintLinkBatchResult = z.infer<typeof MintLinkBatchResult>;

/** How an account's links and page behave. Every field is optional on update. */
export const LinkSettings = z.strictObject({
  /** The name the page shows; null = the account's name. */
  brandName: z.string().trim().min(1).max(100).nullable(),
  /** Let the page offer both "only this sender" and "every sender" (see `unsubscribeChoices`). */
  offerBothScopes: z.boolean(),
  /** The page's language when the browser asks for none we have. */
  defaultLocale: z.enum(PAGE_LOCALES),
  /** Length of newly minted codes; 11 (65 bits) saves an SMS character over the default 12. */
  codeLength: z.number().int().min(LINK_CODE_MIN_LENGTH).max(LINK_CODE_MAX_LENGTH),
});
export type LinkSettings = z.infer<typeof LinkSettings>;

export const DEFAULT_LINK_SETTINGS: LinkSettings = {
  brandName: null,
  offerBothScopes: false,
  defaultLocale: "en",
  codeLength: LINK_CODE_DEFAULT_LENGTH,
};

export const UpdateLinkSettingsInput = LinkSettings.partial();
export type UpdateLinkSettingsInput = z.infer<typeof UpdateLinkSettingsInput>;

// ---------- what a click means ----------

/** What deciding a click needs of a link. */
export interface ClickedLink {
  codeHash: string;
  address: string;
  channel: Channel;
  scope: Scope;
  sender: string | null;
  campaign: string | null;
  messageId: string | null;
  offerBothScopes: boolean;
}

/** Who clicked, as pseudonyms (keyed hashes): never the IP or the user agent themselves. */
export interface LinkClient {
  ipHash: string;
  userAgentHash: string | null;
}

/** A POST to the page: the scope the form chose (if any), and whether it was a one-click. */
export interface LinkPost {
  scope?: string;
  oneClick: boolean;
}

export interface LinkOptOutPlan {
  scope: Scope;
  change: LedgerChange;
  /** The click as a message event: fires `link_click` rules, cancels `not_opened` deadlines. */
  click: TriggerEvent;
}

/**
 * What a confirmed click does: opt the link's address out at the scope the form chose among the
 * ones the page offered (one-click and an unknown choice: the link's own), recorded with source
 * `link` and pseudonymous evidence of who clicked; a repeat changes nothing.
 */
export function planLinkOptOut(
  link: ClickedLink,
  post: LinkPost,
  client: LinkClient,
  now: Date,
): LinkOptOutPlan {
  const choices = unsubscribeChoices(link, link.offerBothScopes);
  const scope = choices.find((s) => s.type === post.scope) ?? choices[0]!;
  const evidence: Evidence = {
    linkCodeHash: link.codeHash,
    via: post.oneClick ? "one_click" : "page",
    ...(link.campaign ? { campaign: link.campaign } : {}),
    ...(link.messageId ? { messageId: link.messageId } : {}),
    ...(link.sender ? { sender: link.sender } : {}),
    ipHash: client.ipHash,
    ...(client.userAgentHash ? { userAgentHash: client.userAgentHash } : {}),
  };
  return {
    scope,
    change: {
      address: link.address,
      channel: link.channel,
      scope,
      action: "opt_out",
      source: "link",
      occurredAt: now.toISOString(),
      evidence,
      skipIfUnchanged: true,
    },
    click: linkClickEvent(link, now),
  };
}

/**
 * A confirmed opt-out link as a message event: `clicked`, origin `link`. A link minted without a
 * message id gets one of its own (`link:<code hash>`), so replays stay one event.
 */
export function linkClickEvent(
  link: Pick<ClickedLink, "codeHash" | "address" | "channel" | "sender" | "campaign" | "messageId">,
  at: Date,
): TriggerEvent {
  return {
    type: "clicked",
    origin: "link",
    messageId: link.messageId ?? `link:${link.codeHash}`,
    address: link.address,
    sender: link.sender,
    channel: link.channel,
    occurredAt: canonicalInstant(at),
    campaign: link.campaign,
  };
}

/**
 * Undoing this link's opt-out: an `opt_in` at the scope it opted out, only while the entry is
 * still the one that opt-out made (`expectSeq`): undo never reverts someone else's change.
 */
export function planLinkUndo(
  link: Pick<ClickedLink, "codeHash" | "address" | "channel">,
  optOut: { seq: number; scope: Scope },
  client: LinkClient,
  now: Date,
): LedgerChange {
  return {
    address: link.address,
    channel: link.channel,
    scope: optOut.scope,
    action: "opt_in",
    source: "link",
    occurredAt: now.toISOString(),
    evidence: {
      linkCodeHash: link.codeHash,
      via: "undo",
      undoes: optOut.seq,
      ipHash: client.ipHash,
      ...(client.userAgentHash ? { userAgentHash: client.userAgentHash } : {}),
    },
    skipIfUnchanged: true,
    expectSeq: optOut.seq,
  };
}
