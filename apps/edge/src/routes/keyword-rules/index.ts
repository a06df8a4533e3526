import { createRoute, z } from "@hono/zod-openapi";
import {
  CreateKeywordRuleInput,
  KeywordRule,
  KeywordSettings,
  UpdateKeywordRuleInput,
  UpdateKeywordSettingsInput,
} from "@optout/core";
import {
  countOwnRules,
  defaultRulesFor,
  deleteOwnRule,
  insertOwnRule,
  isDefaultRuleId,
  MAX_KEYWORD_RULES,
  readKeywordState,
  readOwnRules,
  type StoredRule,
  updateOwnRule,
  writeKeywordState,
} from "../../inbound/keyword-store.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { ApiError, authErrors, bodyErrors, commonErrors, errorResponse } from "../../lib/errors.ts";
import { jsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";

const tags = ["keyword rules"];

const RuleResponse = KeywordRule.and(
  z.object({
    default: z
      .boolean()
      .openapi({ description: "true for the default packs' rules (disable them, never delete)" }),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
  }),
).openapi("KeywordRule");

const SettingsResponse = KeywordSettings.openapi("KeywordSettings");

const RuleIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, example: "default-en-opt-out" }),
});

const notFound = {
  404: errorResponse("No rule with this id (`not_found`)"),
};

const listRules = createRoute({
  method: "get",
  path: "/v1/keyword-rules",
  operationId: "listKeywordRules",
  tags,
  summary: "The account's effective keyword rules",
  description:
    "Every rule an inbound message is matched against, in the order they are tried: the account's " +
    "own rules (creation order), then the default packs (`default: true`; ids " +
    "`default-<language>-<opt-out|opt-in|help>`) under the account's settings. Matching prefers " +
    "rules limited to the message's sender over rules for all senders, then this order. The " +
    "whole normalized message must equal a keyword or phrase; a longer message merely containing an " +
    "opt-out keyword is listed at `GET /v1/review` instead.",
  security: security.account,
  middleware: [requireAccount] as const,
  responses: {
    200: jsonContent(
      z.object({ items: z.array(RuleResponse), settings: SettingsResponse }).openapi("KeywordRuleList"),
      "The effective rules and the settings they follow",
    ),
    ...commonErrors,
    ...authErrors,
  },
});

const createRule = createRoute({
  method: "post",
  path: "/v1/keyword-rules",
  operationId: "createKeywordRule",
  tags,
  summary: "Create a keyword rule",
  description:
    "A rule of the account's own, tried before the defaults. Without `level` it acts on the " +
    `account's default level. At most ${MAX_KEYWORD_RULES} rules per account. Applies to the next ` +
    "inbound message.",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { body: jsonBodyOf(CreateKeywordRuleInput) },
  responses: {
    201: jsonContent(RuleResponse, "The rule"),
    409: errorResponse(`The account already has ${MAX_KEYWORD_RULES} rules (\`conflict\`)`),
    ...commonErrors,
    ...authErrors,
    ...bodyErrors,
  },
});

const patchRule = createRoute({
  method: "patch",
  path: "/v1/keyword-rules/{id}",
  operationId: "updateKeywordRule",
  tags,
  summary: "Enable or disable a rule (a default one too)",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { params: RuleIdParam, body: jsonBodyOf(UpdateKeywordRuleInput) },
  responses: {
    200: jsonContent(RuleResponse, "The rule now"),
    ...notFound,
    ...commonErrors,
    ...authErrors,
    ...bodyErrors,
  },
});

const deleteRule = createRoute({
  method: "delete",
  path: "/v1/keyword-rules/{id}",
  operationId: "deleteKeywordRule",
  tags,
  summary: "Delete one of the account's rules",
  description: "Default rules cannot be deleted (400); disable them with PATCH.",
  security: security.account,
  middleware: [requireAccount] as const,
  request: { params: RuleIdParam },
  responses: {
    200: jsonContent(z.object({ deleted: z.literal(true) }), "Deleted"),
    ...notFound,
    ...commonErrors,
    ...authErrors,
  },
});

const getSettings = createRoute({
  method: "get",
  path: "/v1/keyword-rules/settings",
  operationId: "getKeywordSettings",
  tags,
  summary: "Read the account's keyword settings",
  security: security.account,
  middleware: [requireAccount] as const,
  responses: { 200: jsonContent(SettingsResponse, "The settings"), ...commonErrors, ...authErrors },
});

const putSettings = createRoute({
  method: "put",
  path: "/v1/keyword-rules/settings",
  operationId: "updateKeywordSettings",
  tags,
  summary: "Change the account's keyword settings",
  description:
    "`defaultLevel`: what the default STOP/START rules (and own rules created without a level) act " +
    "on — `account` (every sender) or `sender` (the number the message was sent to). `languages`: " +
    "the default packs in use, the first breaking ties (null = all). `supportContact`: named in HELP " +
    "replies. Fields left out keep their value. Applies to the next inbound message.",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { body: jsonBodyOf(UpdateKeywordSettingsInput) },
  responses: {
    200: jsonContent(SettingsResponse, "The settings now"),
    ...commonErrors,
    ...authErrors,
    ...bodyErrors,
  },
});

const ownView = (s: StoredRule) => ({
  ...s.rule,
  default: false,
  createdAt: s.createdAt,
  updatedAt: s.updatedAt,
});
const defaultView = (rule: KeywordRule) => ({ ...rule, default: true, createdAt: null, updatedAt: null });

export const keywordRuleRoutes = createRouter()
  .openapi(listRules, async (c) => {
    const accountId = c.var.principal.accountId;
    const [own, state] = await Promise.all([
      readOwnRules(c.var.db, accountId),
      readKeywordState(c.var.db, accountId),
    ]);
    const items = [...own.map(ownView), ...defaultRulesFor(state).map(defaultView)];
    return c.json({ items, settings: state.settings }, 200);
  })
  .openapi(createRule, async (c) => {
    const accountId = c.var.principal.accountId;
    const input = c.req.valid("json");
    if ((await countOwnRules(c.var.db, accountId)) >= MAX_KEYWORD_RULES) {
      throw new ApiError(409, "conflict", `an account may have at most ${MAX_KEYWORD_RULES} keyword rules`);
    }
    const level = input.level ?? (await readKeywordState(c.var.db, accountId)).settings.defaultLevel;
    const stored = await insertOwnRule(c.var.db, accountId, { ...input, level });
    return c.json(ownView(stored), 201);
  })
  .openapi(patchRule, async (c) => {
    const accountId = c.var.principal.accountId;
    const { id } = c.req.valid("param");
    const { enabled } = c.req.valid("json");
    if (isDefaultRuleId(id)) {
      const state = await readKeywordState(c.var.db, accountId);
      const rule = defaultRulesFor(state).find((r) => r.id === id);
      if (!rule) throw new ApiError(404, "not_found", "no keyword rule with this id");
      const disabled = new Set(state.disabledDefaults);
      if (enabled) disabled.delete(id);
      else disabled.add(id);
      await writeKeywordState(c.var.db, accountId, {
        settings: state.settings,
        disabledDefaults: [...disabled].sort(),
      });
      return c.json(defaultView({ ...rule, enabled }), 200);
    }
    const stored = (await readOwnRules(c.var.db, accountId)).find((s) => s.rule.id === id);
    if (!stored) throw new ApiError(404, "not_found", "no keyword rule with this id");
    const updated = await updateOwnRule(c.var.db, accountId, { ...stored.rule, enabled });
    if (!updated) throw new ApiError(404, "not_found", "no keyword rule with this id");
    return c.json(ownView(updated), 200);
  })
  .openapi(deleteRule, async (c) => {
    const { id } = c.req.valid("param");
    if (isDefaultRuleId(id)) {
      throw new ApiError(400, "invalid_input", "default rules cannot be deleted; disable them with PATCH");
    }
    if (!(await deleteOwnRule(c.var.db, c.var.principal.accountId, id))) {
      throw new ApiError(404, "not_found", "no keyword rule with this id");
    }
    return c.json({ deleted: true as const }, 200);
  })
  .openapi(getSettings, async (c) => {
    return c.json((await readKeywordState(c.var.db, c.var.principal.accountId)).settings, 200);
  })
  .openapi(putSettings, async (c) => {
    const accountId = c.var.principal.accountId;
    const state = await readKeywordState(c.var.db, accountId);
    const settings = { ...state.settings, ...c.req.valid("json") };
    await writeKeywordState(c.var.db, accountId, { settings, disabledDefaults: state.disabledDefaults });
    return c.json(settings, 200);
  });
