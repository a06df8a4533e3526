import { accountRoutes } from "./accounts/index.ts";
import { blocklistRoutes } from "./blocklist/index.ts";
import { blocklistTransferRoutes } from "./blocklist/transfer.ts";
import { changesRoutes } from "./changes/index.ts";
import { checkRoutes } from "./check/index.ts";
import { eventRoutes } from "./events/index.ts";
import { evidenceRoutes } from "./evidence/index.ts";
import { healthRoutes } from "./health/index.ts";
import { keyRoutes } from "./keys/index.ts";
import { keywordRuleRoutes } from "./keyword-rules/index.ts";
import { linkRoutes } from "./links/index.ts";
import { moRoutes } from "./mo/index.ts";
import { providerEventRoutes } from "./provider-events/index.ts";
import { providerRoutes } from "./providers/index.ts";
import { reviewRoutes } from "./review/index.ts";
import { senderRoutes } from "./senders/index.ts";
import { syncRoutes } from "./sync/index.ts";
import { triggerRoutes } from "./triggers/index.ts";
import { unsubscribeRoutes } from "./unsubscribe/index.ts";

/** Every resource's router, mounted at the root (their paths are absolute). */
export const routers = [
  healthRoutes,
  accountRoutes,
  keyRoutes,
  blocklistRoutes,
  blocklistTransferRoutes,
  checkRoutes,
  changesRoutes,
  syncRoutes,
  evidenceRoutes,
  linkRoutes,
  unsubscribeRoutes,
  senderRoutes,
  triggerRoutes,
  eventRoutes,
  providerRoutes,
  keywordRuleRoutes,
  reviewRoutes,
  moRoutes,
  providerEventRoutes,
] as const;
