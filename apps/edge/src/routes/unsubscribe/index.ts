/**
 * `/u/{code}`: the page an opt-out link opens.
 *
 * GET and HEAD never change state: mail security gateways and chat apps' link previews fetch
 * every link, so only a POST opts out — the page's own form, or an RFC 8058 one-click POST
 * (`List-Unsubscribe=One-Click`, or an empty body) that needs no cookie, session or token.
 * Every response is HTML (never the JSON envelope: people read these), carries the headers in
 * `securityHeaders`, and passes the per-client rate limit. Unknown, malformed and expired codes
 * get the same kind of page, which names no brand and no address.
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  canUndoOptOut,
  hashLinkCode,
  isLinkCode,
  isLinkExpired,
  keyedHash,
  type LinkPost,
  mintUndoToken,
  negotiateLocale,
  type PageLocale,
  planLinkOptOut,
  planLinkUndo,
  scopeKey,
  unsubscribeChoices,
  verifyUndoToken,
} from "@optout/core";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { readActiveFromD1, readActiveFromKv } from "../../kv/active-entries.ts";
import type { AppEnv } from "../../lib/app-env.ts";
import { createRouter } from "../../lib/create-app.ts";
import { classifyError } from "../../lib/errors.ts";
import { COST, unsubscribeLimiter } from "../../links/rate-limit.ts";
import { type LinkView, readLinkFromD1, resolveLink } from "../../links/store.ts";
import { commitWrite } from "../../writer/client.ts";
import { PAGE_CSS, type PageView, renderPage } from "./page.ts";

type Ctx = Context<AppEnv>;

// The inline stylesheet is allowed by its hash, so no other style (and no script) can run.
let cspPromise: Promise<string> | undefined;
function contentSecurityPolicy(): Promise<string> {
  cspPromise ??= (async () => {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(PAGE_CSS));
    const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
    return [
      "default-src 'none'",
      `style-src 'sha256-${hash}'`,
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join("; ");
  })();
  return cspPromise;
}

/** Set on every `/u/*` response, including errors and 429s. */
export const securityHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  // An error thrown by a handler was already rendered as JSON by the app's onError: people read
  // this page, so answer in HTML (and in the language asked for) instead.
  if (c.error) {
    const { status } = classifyError(c.error);
    const retryable = status === 503;
    c.res = c.html(
      renderPage({ kind: "error" }, negotiateLocale(c.req.header("accept-language"))),
      retryable ? 503 : 500,
    );
    if (retryable) c.header("Retry-After", "2");
  }
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
  c.header("Content-Security-Policy", await contentSecurityPolicy());
  c.header("X-Frame-Options", "DENY");
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Vary", "Accept-Language");
});

interface Client {
  /** HMAC of the connecting IP under EDGE_SECRET: the rate-limit key and the ledger's evidence. */
  ipHash: string;
  userAgentHash: string | null;
}

async function clientOf(c: Ctx): Promise<Client> {
  // Behind Cloudflare `cf-connecting-ip` is always set; without it (local tools) all share one key.
  const ip = c.req.header("cf-connecting-ip") ?? "unknown";
  const userAgent = c.req.header("user-agent");
  // Keyed, not bare SHA-256: the IPv4 space is small enough to reverse an unkeyed hash by trying
  // every address, and evidence leaves the edge (sync, exports).
  const secret = c.var.config.EDGE_SECRET;
  return {
    ipHash: await keyedHash(secret, "ip", ip),
    userAgentHash: userAgent ? await keyedHash(secret, "ua", userAgent) : null,
  };
}

function page(
  c: Ctx,
  view: PageView,
  locale: PageLocale,
  status: 200 | 403 | 404 | 409 | 410 | 429 = 200,
): Response {
  c.header("Content-Language", locale);
  return c.html(renderPage(view, locale), status);
}

interface Visit {
  link: LinkView;
  code: string;
  client: Client;
  locale: PageLocale;
  now: Date;
}

/**
 * Admits the client, reads the code, finds the link, and hands it to `handle`; or answers the
 * 429/404/410 page itself. `fresh` reads D1 (for writes); otherwise KV first.
 */
async function withLink(
  c: Ctx,
  options: { fresh: boolean; allowExpired: boolean },
  handle: (visit: Visit) => Promise<Response>,
): Promise<Response> {
  const now = new Date();
  const client = await clientOf(c);
  const asked = c.req.header("accept-language");
  if (!unsubscribeLimiter.admits(client.ipHash, now.getTime())) {
    c.header("Retry-After", String(unsubscribeLimiter.retryAfterSeconds(client.ipHash, now.getTime())));
    return page(c, { kind: "rate_limited" }, negotiateLocale(asked), 429);
  }
  const miss = (kind: "not_found" | "gone") => {
    unsubscribeLimiter.charge(client.ipHash, COST.miss, now.getTime());
    return page(c, { kind }, negotiateLocale(asked), kind === "gone" ? 410 : 404);
  };

  const code = c.req.param("code") ?? "";
  if (!isLinkCode(code)) return miss("not_found");
  const codeHash = await hashLinkCode(code);
  const link = options.fresh
    ? await readLinkFromD1(c.var.db, codeHash)
    : await resolveLink(c.var.db, c.env.KV, codeHash);
  if (!link) return miss("not_found");
  if (!options.allowExpired && isLinkExpired(link.expiresAt, now)) return miss("gone");
  unsubscribeLimiter.charge(client.ipHash, COST.hit, now.getTime());
  return handle({ link, code, client, now, locale: negotiateLocale(asked, link.defaultLocale) });
}

const summaryOf = (link: LinkView) => ({ brand: link.brand, address: link.address, channel: link.channel });

/** The undo form for the opt-out this request just made: its action and the token it needs. */
async function undoFormOf(c: Ctx, link: LinkView, code: string, seq: number, at: Date) {
  const token = await mintUndoToken(c.var.config.EDGE_SECRET, { codeHash: link.codeHash, seq }, at);
  return { action: `${code}/undo`, token };
}

/** The undo form's token, from a small urlencoded or multipart body; "" when there is none. */
async function readUndoToken(c: Ctx): Promise<string> {
  const type = c.req.header("content-type") ?? "";
  const length = Number(c.req.header("content-length"));
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type) || !(length <= 16 * 1024))
    return "";
  try {
    const token = (await c.req.raw.formData()).get("token");
    return typeof token === "string" ? token : "";
  } catch {
    return "";
  }
}

/** The entry this link's opt-out made, if it still blocks (same scope, same ledger event). */
async function activeOptOutOf(c: Ctx, link: LinkView, strong: boolean) {
  if (link.optOutSeq === null || link.optOutScope === null || link.undoneAt !== null) return undefined;
  const key = scopeKey(link.optOutScope);
  const cached = strong
    ? undefined
    : (await readActiveFromKv(c.env.KV, link.accountId, [link.address])).get(link.address);
  const entries =
    cached ?? (await readActiveFromD1(c.var.db, link.accountId, [link.address])).get(link.address) ?? [];
  return entries.find((e) => e.channel === link.channel && scopeKey(e.scope) === key);
}

async function readPostedForm(c: Ctx): Promise<LinkPost> {
  const type = c.req.header("content-type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return { oneClick: true };
  // Forms here are a few bytes; a big or unsized body is not ours and is read as an empty form
  // (browsers and mailbox providers send Content-Length).
  const length = Number(c.req.header("content-length"));
  if (!(length <= 16 * 1024)) return { oneClick: true };
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch {
    return { oneClick: true };
  }
  const scope = form.get("scope");
  return {
    scope: typeof scope === "string" ? scope : undefined,
    oneClick: form.get("List-Unsubscribe") === "One-Click" || typeof scope !== "string",
  };
}

const CodeParam = z.object({
  code: z.string().openapi({
    param: { name: "code", in: "path" },
    description: "The link code (base62, 11–32 characters)",
    example: "Xq3vR8kP2mWz",
  }),
});

const html = (description: string) => ({
  description,
  content: { "text/html": { schema: { type: "string" as const } } },
});
const pageErrors = {
  404: html("Unknown or malformed code: a page that reveals nothing"),
  410: html("Expired link: a page that reveals nothing; nothing changed"),
  429: html("Too many requests from this client (see `Retry-After`)"),
  500: html("Internal error; nothing changed"),
  503: html("Too much concurrent writing; retry (see `Retry-After`)"),
};
const tags = ["links"];

const showPage = createRoute({
  method: "get",
  path: "/u/{code}",
  operationId: "showUnsubscribePage",
  security: [],
  tags,
  summary: "The unsubscribe page (also HEAD)",
  description:
    "Renders the confirmation page in the browser's language (`Accept-Language`, else the account's " +
    "default), or the done page if this link's opt-out is in force. Never changes state, so link " +
    "scanners and previews are harmless. No JavaScript, no external requests.",
  request: { params: CodeParam },
  responses: { 200: html("The confirmation page, or the done page"), ...pageErrors },
});

const optOut = createRoute({
  method: "post",
  path: "/u/{code}",
  operationId: "confirmOptOut",
  security: [],
  tags,
  summary: "Opt out (the page's form, and RFC 8058 one-click)",
  description:
    "Opts the link's address out and answers 200 with the done page. Accepts the page's form " +
    "(`scope=account|sender`, one of the choices the page offered), an RFC 8058 one-click body " +
    "(`List-Unsubscribe=One-Click`, form-urlencoded or multipart) or an empty body; the last two " +
    "use the link's own scope. No cookie, session or CSRF token. Repeating it records one ledger " +
    "event (source `link`).",
  request: {
    params: CodeParam,
    body: {
      required: false,
      content: {
        "application/x-www-form-urlencoded": {
          schema: {
            type: "object",
            properties: {
              "List-Unsubscribe": { type: "string", enum: ["One-Click"] },
              scope: { type: "string", enum: ["account", "sender"] },
            },
          },
        },
      },
    },
  },
  responses: { 200: html("The done page: the address is opted out"), ...pageErrors },
});

const undoOptOut = createRoute({
  method: "post",
  path: "/u/{code}/undo",
  operationId: "undoOptOut",
  security: [],
  tags,
  summary: "Undo this link's opt-out (within an hour, from the page that confirmed it)",
  description:
    "Resubscribes (an `opt_in` event, source `link`) if this link's opt-out happened less than an " +
    "hour ago, is still the one in force, and the form carries the `token` that the page " +
    "confirming that opt-out issued (a MAC under the deployment's `EDGE_SECRET` over the link, the " +
    "opt-out's ledger event and an expiry). Holding the link is not enough: GET and a repeated POST " +
    "never issue a token, so neither a link scanner nor the sender who minted the link can undo " +
    "someone's opt-out.",
  request: {
    params: CodeParam,
    body: {
      required: false,
      content: {
        "application/x-www-form-urlencoded": {
          schema: { type: "object", properties: { token: { type: "string" } }, required: ["token"] },
        },
      },
    },
  },
  responses: {
    200: html("The resubscribed page"),
    403: html("No valid undo token: nothing changed"),
    409: html("Undo is no longer possible (more than an hour, or the entry changed since)"),
    ...pageErrors,
  },
});

const unsubscribeRouter = createRouter();
unsubscribeRouter.use("/u/*", securityHeaders);

export const unsubscribeRoutes = unsubscribeRouter
  .openapi(showPage, (c) =>
    withLink(c, { fresh: false, allowExpired: false }, async ({ link, locale }) => {
      const active = await activeOptOutOf(c, link, false);
      // No undo here: a GET is anyone holding the link (a scanner, the sender who minted it).
      if (active && link.optOutScope) {
        return page(c, { kind: "done", link: summaryOf(link), scope: link.optOutScope, undo: null }, locale);
      }
      const choices = unsubscribeChoices(link, link.offerBothScopes);
      return page(c, { kind: "confirm", link: summaryOf(link), choices }, locale);
    }),
  )
  .openapi(optOut, (c) =>
    // The link from KV: what a link is never changes, and what the click does to the entry is the
    // account's writer's to decide from its own state.
    withLink(c, { fresh: false, allowExpired: false }, async ({ link, code, client, locale, now }) => {
      const plan = planLinkOptOut(link, await readPostedForm(c), client, now);
      const { result } = await commitWrite(c.env, link.accountId, {
        kind: "link_opt_out",
        link: { codeHash: link.codeHash },
        plan,
      });
      // Undo is offered only to whoever made this opt-out: a repeated POST (the same person later,
      // or the sender who minted the link) finds it already in force and gets no token.
      const undo =
        result.status === "appended" && result.applied
          ? await undoFormOf(c, link, code, result.event.seq, now)
          : null;
      return page(c, { kind: "done", link: summaryOf(link), scope: plan.scope, undo }, locale);
    }),
  )
  .openapi(undoOptOut, (c) =>
    // An expired link can still undo an opt-out made in time: expiry is about new opt-outs.
    withLink(c, { fresh: true, allowExpired: true }, async ({ link, client, locale, now }) => {
      const summary = summaryOf(link);
      const scope = link.optOutScope;
      if (link.undoneAt !== null && scope) return page(c, { kind: "undone", link: summary, scope }, locale);
      if (link.optOutSeq === null || scope === null || !canUndoOptOut(link.optedOutAt, now)) {
        return page(c, { kind: "undo_closed", brand: link.brand }, locale, 409);
      }
      // Holding the link is not enough: the token comes only with the page that confirmed the opt-out.
      const claim = { codeHash: link.codeHash, seq: link.optOutSeq };
      if (!(await verifyUndoToken(c.var.config.EDGE_SECRET, await readUndoToken(c), claim, now))) {
        return page(c, { kind: "undo_closed", brand: link.brand }, locale, 403);
      }
      const { result } = await commitWrite(c.env, link.accountId, {
        kind: "link_undo",
        link: { codeHash: link.codeHash },
        change: planLinkUndo(link, { seq: link.optOutSeq, scope }, client, now),
      });
      // Someone else changed the entry since (replaced it with their own opt-out): undo only ever
      // reverts this link's own event.
      if (result.status === "changed_since")
        return page(c, { kind: "undo_closed", brand: link.brand }, locale, 409);
      return page(c, { kind: "undone", link: summary, scope }, locale);
    }),
  );

// Anything else under /u/ (no code, extra segments, other methods) is the same friendly 404.
unsubscribeRouter.all("/u/*", (c) =>
  page(c, { kind: "not_found" }, negotiateLocale(c.req.header("accept-language")), 404),
);
unsubscribeRouter.all("/u", (c) =>
  page(c, { kind: "not_found" }, negotiateLocale(c.req.header("accept-language")), 404),
);
