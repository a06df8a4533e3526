import { createRoute } from "@hono/zod-openapi";
import {
  hashLinkCode,
  isDomainError,
  LinkSettings,
  linkUrl,
  MintLinkBatchInput,
  MintLinkBatchResult,
  type MintLinkInput,
  MintLinkInput as MintLinkInputSchema,
  MintLinkResult,
  mintLinkCode,
  scopeKey,
  UpdateLinkSettingsInput,
} from "@optout/core";
import type { Context } from "hono";
import { publicOrigin } from "../../config.ts";
import { accountAddress } from "../../lib/address.ts";
import type { AppEnv } from "../../lib/app-env.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { ApiError, authErrors, bodyErrors, commonErrors } from "../../lib/errors.ts";
import { jsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";
import { insertLinks, type NewLinkRow, readLinkSettings, writeLinkSettings } from "../../links/store.ts";

const tags = ["links"];

const LinkResponse = MintLinkResult.openapi("Link");
const LinkSettingsResponse = LinkSettings.openapi("LinkSettings");

const mintLink = createRoute({
  method: "post",
  path: "/v1/links",
  operationId: "mintLink",
  tags,
  summary: "Mint an opt-out link",
  description:
    "Returns a short, unguessable link for one address: `url` is `{PUBLIC_LINK_BASE}/u/{code}`. " +
    "The code is random (base62, 12 characters by default, ≥ 64 bits) and stored only as its " +
    "SHA-256, so it is shown only here. Opening the link never changes anything; confirming on " +
    "the page (or an RFC 8058 one-click POST to `url`) opts the address out on `channel` " +
    "(default `*`) at `scope` (default the account). For email, put `url` in the headers " +
    "`List-Unsubscribe: <url>` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { body: jsonBodyOf(MintLinkInputSchema) },
  responses: {
    201: jsonContent(LinkResponse, "The link; the code is not retrievable later"),
    ...commonErrors,
    ...authErrors,
    ...bodyErrors,
  },
});

const mintLinks = createRoute({
  method: "post",
  path: "/v1/links/batch",
  operationId: "mintLinkBatch",
  tags,
  summary: "Mint up to 1,000 opt-out links",
  description:
    "Like `POST /v1/links` for each item; answers `{ items }` in input order. All or nothing: one " +
    "invalid item (its index is named in the message) rejects the batch and mints nothing.",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { body: jsonBodyOf(MintLinkBatchInput) },
  responses: {
    201: jsonContent(MintLinkBatchResult.openapi("LinkBatch"), "The links, in input order"),
    ...commonErrors,
    ...authErrors,
    ...bodyErrors,
  },
});

const getSettings = createRoute({
  method: "get",
  path: "/v1/links/settings",
  operationId: "getLinkSettings",
  tags,
  summary: "Read the account's link settings",
  description:
    "Brand name on the page (null = the account's name), whether the page offers both scopes, its default language and the code length.",
  security: security.account,
  middleware: [requireAccount] as const,
  responses: { 200: jsonContent(LinkSettingsResponse, "The settings"), ...commonErrors, ...authErrors },
});

const putSettings = createRoute({
  method: "put",
  path: "/v1/links/settings",
  operationId: "updateLinkSettings",
  tags,
  summary: "Change the account's link settings",
  description:
    "Fields left out keep their value. Pages of links already opened show a change within an hour " +
    "(their resolution is cached in KV); new links use it at once.",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { body: jsonBodyOf(UpdateLinkSettingsInput) },
  responses: {
    200: jsonContent(LinkSettingsResponse, "The settings now"),
    ...commonErrors,
    ...authErrors,
    ...bodyErrors,
  },
});

async function mint(c: Context<AppEnv>, items: readonly MintLinkInput[]): Promise<MintLinkResult[]> {
  const principal = c.var.principal;
  const now = new Date();
  const createdAt = now.toISOString();
  const prefix = items.length > 1 ? (i: number) => `items.${i}.` : () => "";

  const prepared = items.map((item, i) => {
    let address: string;
    try {
      address = accountAddress(principal, item.address);
    } catch (err) {
      if (isDomainError(err))
        throw new ApiError(
          400,
          err.code === "invalid_address" ? "invalid_address" : "invalid_input",
          `${prefix(i)}address: ${err.message}`,
        );
      throw err;
    }
    const expiresAt = item.expiresAt ? new Date(item.expiresAt).toISOString() : null;
    if (expiresAt && Date.parse(expiresAt) <= now.getTime()) {
      throw new ApiError(400, "invalid_input", `${prefix(i)}expiresAt: must be in the future`);
    }
    return {
      accountId: principal.accountId,
      address,
      channel: item.channel,
      scopeKey: scopeKey(item.scope),
      sender: item.sender ?? (item.scope.type === "sender" ? item.scope.sender : null),
      campaign: item.campaign ?? null,
      messageId: item.messageId ?? null,
      expiresAt,
      createdAt,
    };
  });

  const { codeLength } = await readLinkSettings(c.var.db, principal.accountId);
  const codes = prepared.map(() => mintLinkCode(codeLength));
  const rows: NewLinkRow[] = await Promise.all(
    prepared.map(async (p, i) => ({ ...p, codeHash: await hashLinkCode(codes[i]!) })),
  );
  // Two equal codes would need ~2^35 links at 71 bits; a collision fails the batch whole (PRIMARY
  // KEY), and the caller gets a 500 to retry rather than a link that opts out someone else.
  await insertLinks(c.var.db, rows);

  const config = c.var.config;
  const base = config.PUBLIC_LINK_BASE || publicOrigin(config, c.req.url);
  return codes.map((code, i) => ({ code, url: linkUrl(base, code), expiresAt: prepared[i]!.expiresAt }));
}

export const linkRoutes = createRouter()
  .openapi(mintLink, async (c) => {
    const [link] = await mint(c, [c.req.valid("json")]);
    return c.json(link!, 201);
  })
  .openapi(mintLinks, async (c) => {
    const items = await mint(c, c.req.valid("json").items);
    return c.json({ items }, 201);
  })
  .openapi(getSettings, async (c) => {
    return c.json(await readLinkSettings(c.var.db, c.var.principal.accountId), 200);
  })
  .openapi(putSettings, async (c) => {
    const accountId = c.var.principal.accountId;
    const settings = { ...(await readLinkSettings(c.var.db, accountId)), ...c.req.valid("json") };
    await writeLinkSettings(c.var.db, accountId, settings, new Date().toISOString());
    return c.json(settings, 200);
  });
