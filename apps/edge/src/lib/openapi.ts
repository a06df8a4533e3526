import { z } from "@hono/zod-openapi";
import { BlocklistEntry } from "@optout/core";

/** The JSON request/response shape for createRoute, in one line per use. */
export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const jsonBodyOf = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

/** Names of the security schemes, registered on the root app (see routes/docs). */
export const security = {
  account: [{ apiKey: [] }],
  admin: [{ adminToken: [] }],
  sync: [{ syncToken: [] }],
};

/** A blocklist entry as the API returns it: the contract's entry plus whether it blocks now. */
export const EntryResponse = BlocklistEntry.extend({
  active: z.boolean().openapi({ description: "true while the entry blocks; false after removal" }),
}).openapi("BlocklistEntry");
