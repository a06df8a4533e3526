import { parseScopeKey, type TriggerOn, type TriggerRule } from "@optout/core";
import type { Stored } from "../db/client.ts";
import type { TriggerRuleRow } from "../db/schema/index.ts";

/** A rule as the edge holds it: the API's TriggerRule plus the account and whether it was deleted. */
export interface StoredRule extends TriggerRule {
  accountId: string;
  deleted: boolean;
}

export function ruleFromRow(row: Stored<TriggerRuleRow>): StoredRule {
  return {
    id: row.id,
    accountId: row.accountId,
    name: row.name,
    on: JSON.parse(row.on) as TriggerOn,
    channel: row.channel,
    scope: parseScopeKey(row.scopeKey),
    campaign: row.campaign,
    enabled: Boolean(row.enabled),
    createdAt: row.createdAt,
    deleted: row.deletedAt !== null,
  };
}

/** The API's view of a rule. */
export function ruleView(rule: StoredRule): TriggerRule {
  const { accountId: _account, deleted: _deleted, ...view } = rule;
  return view;
}

/** Column list that reads trigger_rules in raw SQL with the drizzle row's property names. */
export const RULE_COLUMNS = `r.id AS id, r.account_id AS accountId, r.name AS name, r.trigger_on AS "on",
  r.channel AS channel, r.scope_key AS scopeKey, r.campaign AS campaign, r.enabled AS enabled,
  r.created_at AS createdAt, r.deleted_at AS deletedAt`;
