/**
 * Keyword settings and the account's own keyword rules in D1, and the account's effective rules
 * (own rules first, then the default packs) cached per isolate.
 *
 * Every write to the settings or the rules bumps `keyword_settings.rules_version` in the same
 * batch. Webhooks read the version with the account (one query they make anyway) and reuse the
 * decoded rules while it is unchanged, so a rule change applies to the next webhook in every
 * isolate, without a per-webhook rules query. The cached array is never mutated: core
 * `classifyInbound` caches its compiled form by the array's identity.
 */
import {
  DEFAULT_KEYWORD_SETTINGS,
  defaultKeywordRules,
  KeywordRule,
  type KeywordSettings,
  newId,
} from "@optout/core";
import type { Db } from "../db/client.ts";
import type { KeywordRuleRow } from "../db/schema/index.ts";
import { type Query, sql } from "../db/sql.ts";

/** An account may have this many rules of its own (every inbound message is matched against all). */
export const MAX_KEYWORD_RULES = 100;

export const isDefaultRuleId = (id: string) => id.startsWith("default-");

/** The settings as stored, with what the API does not show: disabled defaults and the version. */
export interface KeywordState {
  settings: KeywordSettings;
  disabledDefaults: string[];
  version: number;
}

export const DEFAULT_KEYWORD_STATE: KeywordState = {
  settings: DEFAULT_KEYWORD_SETTINGS,
  disabledDefaults: [],
  version: 0,
};

/** The settings columns, as selected by the webhook's joined read and by `readKeywordState`. */
export interface KeywordStateColumns {
  defaultLevel: string | null;
  languages: string | null;
  supportContact: string | null;
  disabledDefaults: string | null;
  rulesVersion: number | null;
}

export function keywordStateFrom(row: KeywordStateColumns | undefined): KeywordState {
  if (!row || row.rulesVersion === null) return DEFAULT_KEYWORD_STATE;
  return {
    settings: {
      defaultLevel: row.defaultLevel === "sender" ? "sender" : "account",
      languages: row.languages ? (JSON.parse(row.languages) as KeywordSettings["languages"]) : null,
      supportContact: row.supportContact,
    },
    disabledDefaults: row.disabledDefaults ? (JSON.parse(row.disabledDefaults) as string[]) : [],
    version: row.rulesVersion,
  };
}

export async function readKeywordState(db: Db, accountId: string): Promise<KeywordState> {
  const row = await db.get<KeywordStateColumns>(sql`
    SELECT default_level AS defaultLevel, languages, support_contact AS supportContact,
      disabled_defaults AS disabledDefaults, rules_version AS rulesVersion
    FROM keyword_settings WHERE account_id = ${accountId} LIMIT 1`);
  return keywordStateFrom(row);
}

// In `DO UPDATE SET`, a bare `rules_version` is the stored row's value (`excluded.` is the new one).

/** Upserts the settings and bumps the version: the statement every keyword write batches. */
function writeState(accountId: string, state: Omit<KeywordState, "version">, now: string): Query {
  const { defaultLevel, languages, supportContact } = state.settings;
  return sql`
    INSERT INTO keyword_settings (account_id, default_level, languages, support_contact, disabled_defaults,
      rules_version, updated_at)
    VALUES (${accountId}, ${defaultLevel}, ${languages ? JSON.stringify(languages) : null}, ${supportContact},
      ${JSON.stringify(state.disabledDefaults)}, 1, ${now})
    ON CONFLICT (account_id) DO UPDATE SET default_level = excluded.default_level,
      languages = excluded.languages, support_contact = excluded.support_contact,
      disabled_defaults = excluded.disabled_defaults, rules_version = rules_version + 1,
      updated_at = excluded.updated_at`;
}

/** Only bumps the version (creating the row with default settings when there is none). */
function bumpVersion(accountId: string, now: string): Query {
  return sql`
    INSERT INTO keyword_settings (account_id, default_level, languages, support_contact, disabled_defaults,
      rules_version, updated_at)
    VALUES (${accountId}, ${DEFAULT_KEYWORD_SETTINGS.defaultLevel}, NULL, NULL, '[]', 1, ${now})
    ON CONFLICT (account_id) DO UPDATE SET rules_version = rules_version + 1, updated_at = excluded.updated_at`;
}

export async function writeKeywordState(
  db: Db,
  accountId: string,
  state: Omit<KeywordState, "version">,
): Promise<void> {
  await db.run(writeState(accountId, state, new Date().toISOString()));
}

// ---------- the account's own rules ----------

export interface StoredRule {
  rule: KeywordRule;
  createdAt: string;
  updatedAt: string;
}

type RuleRow = Pick<KeywordRuleRow, "id" | "definition" | "createdAt" | "updatedAt">;

function ruleFromRow(row: RuleRow): StoredRule {
  // Parsed on the way out too: a definition written by an older version gains new defaults.
  const rule = KeywordRule.parse({ ...JSON.parse(row.definition), id: row.id });
  return { rule, createdAt: row.createdAt, updatedAt: row.updatedAt };
}

/** The account's own rules in the order they are tried. */
export async function readOwnRules(db: Db, accountId: string): Promise<StoredRule[]> {
  const rows = await db.all<RuleRow>(sql`
    SELECT id, definition, created_at AS createdAt, updated_at AS updatedAt
    FROM keyword_rules WHERE account_id = ${accountId}
    ORDER BY created_at ASC, id ASC`);
  return rows.map(ruleFromRow);
}

export async function countOwnRules(db: Db, accountId: string): Promise<number> {
  const row = await db.get<{ n: number }>(
    sql`SELECT count(*) AS n FROM keyword_rules WHERE account_id = ${accountId}`,
  );
  return row?.n ?? 0;
}

const definitionOf = ({ id: _id, ...rest }: KeywordRule) => JSON.stringify(rest);

export async function insertOwnRule(
  db: Db,
  accountId: string,
  rule: Omit<KeywordRule, "id">,
): Promise<StoredRule> {
  const now = new Date().toISOString();
  const stored = { rule: { ...rule, id: newId("kwr") }, createdAt: now, updatedAt: now };
  await db.batch([
    sql`INSERT INTO keyword_rules (id, account_id, definition, created_at, updated_at)
      VALUES (${stored.rule.id}, ${accountId}, ${definitionOf(stored.rule)}, ${now}, ${now})`,
    bumpVersion(accountId, now),
  ]);
  return stored;
}

/** Writes the rule's new definition; null if the account has no rule with this id. */
export async function updateOwnRule(
  db: Db,
  accountId: string,
  rule: KeywordRule,
): Promise<StoredRule | null> {
  const now = new Date().toISOString();
  // The RETURNING row says whether the account had this rule.
  const [updated] = await db.batch<{ createdAt: string }>([
    sql`UPDATE keyword_rules SET definition = ${definitionOf(rule)}, updated_at = ${now}
      WHERE id = ${rule.id} AND account_id = ${accountId}
      RETURNING created_at AS createdAt`,
    bumpVersion(accountId, now),
  ]);
  const row = updated?.results[0];
  return row ? { rule, createdAt: row.createdAt, updatedAt: now } : null;
}

/** False if the account has no rule with this id. */
export async function deleteOwnRule(db: Db, accountId: string, id: string): Promise<boolean> {
  const now = new Date().toISOString();
  const [deleted] = await db.batch([
    sql`DELETE FROM keyword_rules WHERE id = ${id} AND account_id = ${accountId} RETURNING id`,
    bumpVersion(accountId, now),
  ]);
  return (deleted?.results.length ?? 0) > 0;
}

// ---------- effective rules ----------

/** The default rules under these settings, with the account's disabled ones disabled. */
export function defaultRulesFor(state: KeywordState): KeywordRule[] {
  const disabled = new Set(state.disabledDefaults);
  const languages = state.settings.languages;
  const rules = defaultKeywordRules({
    level: state.settings.defaultLevel,
    languages: languages ?? undefined,
  });
  // Packs in the account's order of preference (a stable sort keeps each pack's own order).
  if (languages)
    rules.sort((a, b) => languages.indexOf(a.language as never) - languages.indexOf(b.language as never));
  return rules.map((rule) => (disabled.has(rule.id) ? { ...rule, enabled: false } : rule));
}

export function effectiveRules(own: readonly StoredRule[], state: KeywordState): KeywordRule[] {
  return [...own.map((s) => s.rule), ...defaultRulesFor(state)];
}

// Bounded: an isolate serving many accounts drops the least recently loaded.
const MAX_CACHED_ACCOUNTS = 500;
const cache = new Map<string, { version: number; rules: readonly KeywordRule[] }>();

/**
 * The effective rules for a webhook: from this isolate's cache while the account's version is
 * unchanged, else read and decoded once. Never mutate the returned array.
 */
export async function cachedEffectiveRules(
  db: Db,
  accountId: string,
  state: KeywordState,
): Promise<readonly KeywordRule[]> {
  const hit = cache.get(accountId);
  if (hit && hit.version === state.version) return hit.rules;
  const rules =
    state.version === 0 ? defaultRulesFor(state) : effectiveRules(await readOwnRules(db, accountId), state);
  cache.delete(accountId);
  cache.set(accountId, { version: state.version, rules });
  if (cache.size > MAX_CACHED_ACCOUNTS) cache.delete(cache.keys().next().value!);
  return rules;
}
