import { z } from "zod";
import { ApiError } from "./lib/errors.ts";
import { log } from "./lib/log.ts";

const Secret = z.string().min(8, "must be at least 8 characters");
const UrlOrEmpty = z.union([z.literal(""), z.url({ protocol: /^https?$/ })]);

/** Vars and secrets the Worker needs. Parsed once per isolate (env does not change). */
export const Config = z
  .object({
    ADMIN_TOKEN: Secret,
    SYNC_TOKEN: Secret,
    /** Absolute origin for links we print; "" = the incoming request's origin. */
    PUBLIC_BASE_URL: UrlOrEmpty.default(""),
    /** Origin of minted opt-out links; "" = PUBLIC_BASE_URL. */
    PUBLIC_LINK_BASE: UrlOrEmpty.default(""),
    ENVIRONMENT: z.enum(["development", "test", "staging", "production"]).default("development"),
  })
  // One token must never open the other door.
  .refine((c) => c.ADMIN_TOKEN !== c.SYNC_TOKEN, {
    message: "must differ from ADMIN_TOKEN",
    path: ["SYNC_TOKEN"],
  })
  // The committed example tokens are public; refuse them where real data lives.
  .refine(
    (c) => c.ENVIRONMENT !== "production" || (c.ADMIN_TOKEN.length >= 32 && c.SYNC_TOKEN.length >= 32),
    {
      message: "ADMIN_TOKEN and SYNC_TOKEN must be at least 32 characters in production",
      path: ["ENVIRONMENT"],
    },
  );
export type Config = z.infer<typeof Config>;

const parsed = new WeakMap<object, Config>();

export function readConfig(env: Env): Config {
  const cached = parsed.get(env);
  if (cached) return cached;
  const result = Config.safeParse(env);
  if (!result.success) {
    // Names the fields, never their values.
    const fields = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    log.error("config_invalid", { fields });
    throw new ApiError(500, "misconfigured", "the service is misconfigured; see its logs");
  }
  parsed.set(env, result.data);
  return result.data;
}
