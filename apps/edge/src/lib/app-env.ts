import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";

/** The account a request acts for; it comes from the API key, never from the request. */
export interface Principal {
  accountId: string;
  defaultRegion: string | null;
  /** The mode of the API key the request came with; unset for webhooks (no key). */
  keyMode?: "live" | "test";
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    db: Db;
    /** Set by `requireAccount`. */
    principal: Principal;
    /** Set when no route matched, so the request log reports no route pattern. */
    unmatched: boolean;
  };
}
