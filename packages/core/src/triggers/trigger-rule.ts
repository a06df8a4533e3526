import { z } from "zod";
import { Channel, Instant, Scope } from "../schemas.ts";
import { MAX_WITHIN_SECONDS, MIN_WITHIN_SECONDS } from "./limits.ts";
import { Campaign } from "./message-event.ts";

/**
 * Trigger rules: "when X happens to a message (or does not happen in time), add the address to
 * the Do Not Contact list". A rule adds the entry (address, `channel`, `scope`) with source
 * `trigger`; it reacts only to events on its channel (any channel for `*`), from its sender
 * (for a sender scope) and of its campaign (when it names one).
 */

export const MAX_TRIGGER_KEYWORDS = 50;
/** An account may have this many rules (every event is matched against all of them). */
export const MAX_TRIGGERS_PER_ACCOUNT = 100;

const Keyword = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine((k) => normalizeKeyword(k).length > 0, "a keyword needs at least one letter or digit");

export const TriggerOn = z.discriminatedUnion("type", [
  /** A reply that is exactly one of `keywords` (case, accents, spacing and punctuation ignored). */
  z.strictObject({
    type: z.literal("keyword_reply"),
    keywords: z.array(Keyword).min(1).max(MAX_TRIGGER_KEYWORDS),
  }),
  /** A confirmed click on an opt-out link (`POST /u/{code}`), produced by the edge itself. */
  z.strictObject({ type: z.literal("link_click") }),
  /** No `opened` or `clicked` before `after`'s occurredAt + withinSeconds. */
  z.strictObject({
    type: z.literal("not_opened"),
    withinSeconds: z.number().int().min(MIN_WITHIN_SECONDS).max(MAX_WITHIN_SECONDS),
    after: z.enum(["sent", "delivered"]).default("sent"),
  }),
  z.strictObject({ type: z.literal("bounced") }),
  z.strictObject({ type: z.literal("complained") }),
]);
export type TriggerOn = z.infer<typeof TriggerOn>;
export type TriggerType = TriggerOn["type"];

export const CreateTriggerInput = z.strictObject({
  name: z.string().trim().min(1).max(100),
  on: TriggerOn,
  /** The channel it watches and blocks; `*` watches every channel and blocks all of them. */
  channel: Channel.default("*"),
  /** Account scope: events from any sender, blocks every sender. Sender scope: that sender only. */
  scope: Scope.default({ type: "account" }),
  campaign: Campaign.optional(),
  enabled: z.boolean().default(true),
});
export type CreateTriggerInput = z.infer<typeof CreateTriggerInput>;

export const TriggerRule = z.object({
  id: z.string(),
  name: z.string(),
  on: TriggerOn,
  channel: Channel,
  scope: Scope,
  campaign: z.string().nullable(),
  enabled: z.boolean(),
  createdAt: Instant,
});
export type TriggerRule = z.infer<typeof TriggerRule>;

/**
 * Keywords compare after this: Unicode NFKC, case folded, accents removed, every run of
 * non-letters/non-digits one space, ends trimmed. "Stop!", " STOP " and "ｓｔｏｐ" are all "stop".
 */
export function normalizeKeyword(text: string): string {
  return text
    .normalize("NFKC")
    .toUpperCase()
    .toLowerCase()
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/['\u2018\u2019]/g, "")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim()
    .normalize("NFC");
}
