/**
 * The client against a real edge: apps/edge under `wrangler dev` (local D1 and KV), started once
 * for this file, with an account created through the API with the admin token. Retries are shown
 * through a small HTTP proxy in front of that edge, which answers what a test scripts (a 503 with
 * `Retry-After`, a hang) and forwards everything else: the edge itself is never mocked.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { LocalEdge } from "@optout/edge/testing";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CheckItem, OptoutClient, OptoutError } from "../src/index.ts";

let edge: LocalEdge;
let apiKey: string;
let client: OptoutClient;

beforeAll(async () => {
  const starting = new LocalEdge();
  try {
    edge = await starting.start();
  } catch (error) {
    await starting.stop();
    throw error;
  }
  const account = await edge.request<{ apiKey: string }>("POST", "/v1/accounts", edge.adminToken, {
    name: "Client tests",
    defaultRegion: "US",
  });
  apiKey = account.apiKey;
  client = new OptoutClient({ baseUrl: edge.url, apiKey });
});

afterAll(async () => {
  await edge?.stop();
});

/** A fresh US number per test, so tests share the account but never an address. */
let numbers = 0;
const nextNumber = () => `+1415555${String(1000 + ++numbers).padStart(4, "0")}`;

describe("the document", () => {
  it("is the one the Worker serves, the types' source (apps/edge/assets/openapi.json)", async () => {
    const served = await (await fetch(`${edge.url}/openapi.json`)).json();
    const committed = JSON.parse(
      readFileSync(new URL("../../../apps/edge/assets/openapi.json", import.meta.url), "utf8"),
    );
    expect({ ...served, servers: [] }).toEqual({ ...committed, servers: [] });
  });
});

describe("check before send", () => {
  it("allows an address, then blocks it once it is on the blocklist", async () => {
    const address = nextNumber();
    const send = { address, sender: "ACME", channel: "sms" as const };
    expect(await client.check(send)).toEqual({ address, allowed: true });

    const entry = await client.blocklist.add({ address, channel: "sms", reason: "asked by phone" });
    expect(entry).toMatchObject({ address, channel: "sms", scope: { type: "account" }, active: true });

    // D1, the source of truth: sees the change at once (KV follows within its propagation time).
    const after = await client.check({ ...send, consistency: "strong" });
    expect(after).toMatchObject({
      address,
      allowed: false,
      blockedBy: { channel: "sms", scope: { type: "account" }, source: "api" },
    });
    // Another channel is not blocked by an sms entry.
    expect(await client.check({ ...send, channel: "email", address: "ana@example.com" })).toMatchObject({
      allowed: true,
    });

    expect(await client.blocklist.remove({ address, channel: "sms" })).toMatchObject({
      removed: true,
      entry: { address, active: false },
    });
    expect(await client.check({ ...send, consistency: "strong" })).toEqual({ address, allowed: true });
  });

  it("normalizes with the account's region: a national number is checked as E.164", async () => {
    const address = nextNumber();
    const national = `(${address.slice(2, 5)}) ${address.slice(5, 8)}-${address.slice(8)}`;
    await client.blocklist.add({ address: national });
    expect(
      await client.check({ address, sender: "ACME", channel: "voice", consistency: "strong" }),
    ).toMatchObject({ address, allowed: false });
  });

  it("checkMany answers in input order, an unreadable address in its place", async () => {
    const blocked = nextNumber();
    const allowed = nextNumber();
    await client.blocklist.add({ address: blocked, scope: { type: "sender", sender: "ACME" } });
    const items: CheckItem[] = [
      { address: allowed, sender: "ACME", channel: "sms" },
      { address: blocked, sender: "ACME", channel: "sms" },
      { address: "not a number", sender: "ACME", channel: "sms" },
      { address: blocked, sender: "OTHER", channel: "sms" },
    ];
    const results = await client.checkMany(items, { consistency: "strong" });
    expect(results).toEqual([
      { address: allowed, allowed: true },
      expect.objectContaining({ address: blocked, allowed: false }),
      { address: "not a number", error: { code: "invalid_address", message: expect.any(String) } },
      { address: blocked, allowed: true },
    ]);
  });

  it("checkMany sends more than 1,000 items as consecutive batches, in order", async () => {
    const blocked = nextNumber();
    await client.blocklist.add({ address: blocked });
    const items: CheckItem[] = Array.from({ length: 1203 }, (_, i) => ({
      address: i === 1100 ? blocked : `+1212555${String(i).padStart(4, "0")}`,
      sender: "ACME",
      channel: "sms",
    }));
    const posts: number[] = [];
    const counting = new OptoutClient({
      baseUrl: edge.url,
      apiKey,
      fetch: (input, init) => {
        if (init?.method === "POST") posts.push(JSON.parse(String(init.body)).items.length);
        return fetch(input, init);
      },
    });
    const results = await counting.checkMany(items, { consistency: "strong" });
    expect(posts).toEqual([1000, 203]);
    expect(results.map((r) => r.address)).toEqual(items.map((i) => i.address));
    expect(results.filter((r) => "allowed" in r && !r.allowed).map((r) => r.address)).toEqual([blocked]);
  });
});

describe("the blocklist", () => {
  it("lists one page, and iterates over every page with for await", async () => {
    const addresses = Array.from({ length: 7 }, (_, i) => `list-${i}@example.com`);
    for (const address of addresses) await client.blocklist.add({ address, channel: "email" });

    const pages: string[] = [];
    const counting = new OptoutClient({
      baseUrl: edge.url,
      apiKey,
      fetch: (input, init) => {
        pages.push(new URL(String(input)).searchParams.get("cursor") ?? "first");
        return fetch(input, init);
      },
    });

    const first = await counting.blocklist.list({ channel: "email", limit: 3 });
    expect(first.items.map((e) => e.address)).toEqual(addresses.slice(0, 3));
    expect(first.nextCursor).toEqual(expect.any(String));

    pages.length = 0;
    const all: string[] = [];
    for await (const entry of counting.blocklist.all({ channel: "email", limit: 3 })) all.push(entry.address);
    expect(all).toEqual(addresses);
    expect(pages).toHaveLength(3); // 3 + 3 + 1

    // `list` iterates too, from the cursor it is given.
    const rest: string[] = [];
    for await (const entry of counting.blocklist.list({
      channel: "email",
      limit: 3,
      cursor: first.nextCursor!,
    }))
      rest.push(entry.address);
    expect(rest).toEqual(addresses.slice(3));
  });

  it("adding an active entry again returns it and records nothing more", async () => {
    const address = nextNumber();
    const first = await client.blocklist.add({ address });
    const again = await client.blocklist.add({ address });
    expect(again).toEqual(first);
    expect((await client.evidence.get(address)).events).toHaveLength(1);
  });
});

describe("links", () => {
  it("mints a link whose page opts the address out", async () => {
    const address = nextNumber();
    const link = await client.links.mint({ address, channel: "sms", campaign: "spring" });
    expect(link.code).toMatch(/^[0-9A-Za-z]{12}$/);
    expect(link.url).toBe(`${edge.url}/u/${link.code}`);

    const page = await fetch(link.url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    // RFC 8058 one-click, as a mailbox provider sends it.
    const oneClick = await fetch(link.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(oneClick.status).toBe(200);
    expect(
      await client.check({ address, sender: "ACME", channel: "sms", consistency: "strong" }),
    ).toMatchObject({ allowed: false, blockedBy: { source: "link" } });
  });

  it("mints a batch in input order", async () => {
    const addresses = [nextNumber(), "bo@example.com", nextNumber()];
    const links = await client.links.mintBatch(addresses.map((address) => ({ address })));
    expect(links).toHaveLength(3);
    expect(new Set(links.map((l) => l.code)).size).toBe(3);
    for (const link of links) expect(link.url).toBe(`${edge.url}/u/${link.code}`);
  });
});

describe("events", () => {
  it("records message events once: a repeat is a duplicate", async () => {
    const event = {
      type: "bounced" as const,
      messageId: `m-${Date.now()}`,
      address: "bounce@example.com",
      sender: "news@acme.example",
      channel: "email" as const,
      occurredAt: new Date().toISOString(),
    };
    const first = await client.events.post([{ ...event, type: "sent" }, event]);
    expect(first.results).toEqual([
      { messageId: event.messageId, type: "sent", status: "recorded" },
      { messageId: event.messageId, type: "bounced", status: "recorded" },
    ]);
    expect(first.fired).toEqual([]); // no trigger rule in this account
    const again = await client.events.post([event]);
    expect(again.results).toEqual([{ messageId: event.messageId, type: "bounced", status: "duplicate" }]);
  });
});

describe("evidence", () => {
  it("returns the address's ledger events, verified, and verifies a kept copy", async () => {
    const address = nextNumber();
    await client.blocklist.add({ address, channel: "whatsapp", reason: "complaint" });
    await client.blocklist.remove({ address, channel: "whatsapp" });

    const evidence = await client.evidence.get(address);
    expect(evidence.events.map((e) => [e.action, e.source, e.channel])).toEqual([
      ["opt_out", "api", "whatsapp"],
      ["opt_in", "api", "whatsapp"],
    ]);
    expect(evidence.verified).toMatchObject({ ok: true });

    expect(await client.evidence.verify(evidence.events)).toMatchObject({ verified: true });
    const edited = evidence.events.map((e, i) => (i === 0 ? { ...e, channel: "sms" as const } : e));
    const refused = await client.evidence.verify(edited);
    expect(refused.verified).toBe(false);
    expect(refused.results[0]).toMatchObject({ ok: false, reason: "hash_mismatch" });
  });
});

describe("errors", () => {
  it("an unreadable address is a typed OptoutError with the envelope's code and request id", async () => {
    const error = await client
      .check({ address: "not a number", sender: "ACME", channel: "sms" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OptoutError);
    expect(error).toMatchObject({
      name: "OptoutError",
      status: 400,
      code: "invalid_address",
      message: expect.stringMatching(/.+/),
      requestId: expect.stringMatching(/.+/),
    });
  });

  it("a wrong key is 401 unauthorized", async () => {
    const stranger = new OptoutClient({ baseUrl: edge.url, apiKey: "sk_test_not-a-key" });
    await expect(stranger.blocklist.list()).rejects.toMatchObject({ status: 401, code: "unauthorized" });
  });

  it("an invalid body is 400 invalid_input naming the field", async () => {
    const error = await client.links
      .mint({ address: nextNumber(), expiresAt: "tomorrow" })
      .catch((e: OptoutError) => e);
    expect(error).toMatchObject({ status: 400, code: "invalid_input" });
    expect((error as OptoutError).message).toMatch(/expiresAt/);
  });

  it("no server is a network_error", async () => {
    const nowhere = new OptoutClient({ baseUrl: "http://127.0.0.1:9", apiKey, retries: 0 });
    await expect(nowhere.check({ address: nextNumber(), sender: "A", channel: "sms" })).rejects.toMatchObject(
      {
        code: "network_error",
        status: 0,
      },
    );
  });
});

describe("in a Cloudflare Worker (workerd, no nodejs_compat)", () => {
  it("checks, adds, iterates and gets the typed error, from inside a Worker", async () => {
    // The client bundled for a runtime with no Node built-ins (a `node:` import would not bundle),
    // then run by workerd without nodejs_compat: only the Web platform is there.
    const worker = `
      import { OptoutClient, OptoutError } from "./src/index.ts";
      export default {
        async fetch(request, env) {
          const client = new OptoutClient({ baseUrl: env.EDGE_URL, apiKey: env.API_KEY });
          const address = new URL(request.url).searchParams.get("address");
          const send = { address, sender: "ACME", channel: "sms" };
          const before = await client.check(send);
          await client.blocklist.add({ address });
          const after = await client.check({ ...send, consistency: "strong" });
          const listed = [];
          for await (const entry of client.blocklist.all({ address })) listed.push(entry.address);
          const error = await client.check({ ...send, address: "nope" }).catch((e) => e);
          return Response.json({
            before, after, listed,
            error: { isOptoutError: error instanceof OptoutError, code: error.code, status: error.status },
          });
        },
      };`;
    const bundled = await build({
      stdin: {
        contents: worker,
        resolveDir: new URL("..", import.meta.url).pathname,
        sourcefile: "worker.js",
      },
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      write: false,
    });
    const mf = new Miniflare({
      modules: true,
      script: bundled.outputFiles[0]!.text,
      compatibilityDate: "2026-04-01",
      bindings: { EDGE_URL: edge.url, API_KEY: apiKey },
    });
    try {
      const address = nextNumber();
      const res = await mf.dispatchFetch(`http://worker/?address=${encodeURIComponent(address)}`);
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(JSON.parse(text)).toMatchObject({
        before: { address, allowed: true },
        after: { address, allowed: false, blockedBy: { source: "api" } },
        listed: [address],
        error: { isOptoutError: true, code: "invalid_address", status: 400 },
      });
    } finally {
      await mf.dispose();
    }
  });
});

/** Answers scripted in order; once they run out, every request is forwarded to the edge. */
interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Forward the request to the edge first (it commits), then answer the scripted status anyway. */
  forwardFirst?: boolean;
  /** Never answer (until the client gives up). */
  hang?: boolean;
}

class FaultyProxy {
  readonly script: Scripted[] = [];
  readonly seen: { method: string; path: string; at: number }[] = [];
  url = "";
  #server: Server | undefined;
  #hanging: ServerResponse[] = [];

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.seen.push({ method: req.method!, path: req.url!, at: Date.now() });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const scripted = this.script.shift();
    if (scripted?.hang) {
      this.#hanging.push(res);
      return;
    }
    if (!scripted || scripted.forwardFirst) {
      const forwarded = await fetch(`${edge.url}${req.url}`, {
        method: req.method!,
        headers: {
          authorization: req.headers.authorization ?? "",
          ...(req.headers["content-type"] ? { "content-type": req.headers["content-type"] } : {}),
        },
        ...(body ? { body } : {}),
      });
      const text = await forwarded.text();
      if (!scripted) {
        res.writeHead(forwarded.status, {
          "content-type": forwarded.headers.get("content-type") ?? "application/json",
          "x-request-id": forwarded.headers.get("x-request-id") ?? "",
        });
        res.end(text);
        return;
      }
    }
    res.writeHead(scripted.status, { "content-type": "application/json", ...scripted.headers });
    res.end(JSON.stringify(scripted.body ?? envelope("busy", "try again")));
  }
}

const envelope = (code: string, message: string) => ({ error: { code, message, requestId: "req_proxy" } });

describe("retries (through a proxy in front of the real edge)", () => {
  let proxy: FaultyProxy;
  beforeEach(async () => {
    proxy = await new FaultyProxy().start();
    return () => proxy.stop();
  });
  const through = (options: { retries?: number; timeoutMs?: number } = {}) =>
    new OptoutClient({ baseUrl: proxy.url, apiKey, ...options });

  it("waits out a 503's Retry-After in seconds, then succeeds", async () => {
    proxy.script.push({ status: 503, headers: { "retry-after": "1" } });
    const started = Date.now();
    const address = nextNumber();
    expect(await through().check({ address, sender: "ACME", channel: "sms" })).toEqual({
      address,
      allowed: true,
    });
    expect(proxy.seen).toHaveLength(2);
    expect(proxy.seen[1]!.at - proxy.seen[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("waits out a 429's Retry-After as an HTTP date", async () => {
    // HTTP dates have whole seconds: the next whole second at least 1.5 s away.
    const until = Math.ceil((Date.now() + 1500) / 1000) * 1000;
    proxy.script.push({
      status: 429,
      headers: { "retry-after": new Date(until).toUTCString() },
      body: envelope("busy", "slow down"),
    });
    const page = await through().blocklist.list({ limit: 1 });
    expect(page.items.length).toBeLessThanOrEqual(1);
    expect(proxy.seen).toHaveLength(2);
    expect(proxy.seen[1]!.at).toBeGreaterThanOrEqual(until - 5);
  });

  it("retries an add whose first answer was lost: one ledger event, the same entry", async () => {
    const address = nextNumber();
    // The edge commits the first attempt, but the client hears 503 (a lost answer).
    proxy.script.push({ status: 503, headers: { "retry-after": "0" }, forwardFirst: true });
    const entry = await through().blocklist.add({ address, reason: "STOP by email" });
    expect(entry).toMatchObject({ address, active: true });
    expect(proxy.seen.map((s) => s.method)).toEqual(["POST", "POST"]);
    const { events } = await client.evidence.get(address);
    expect(events.map((e) => e.action)).toEqual(["opt_out"]);
  });

  it("gives up after `retries` with jittered backoff when no Retry-After is given", async () => {
    for (let i = 0; i < 3; i++) proxy.script.push({ status: 503 });
    const started = Date.now();
    const error = await through({ retries: 2 })
      .check({ address: nextNumber(), sender: "ACME", channel: "sms" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OptoutError);
    expect(error).toMatchObject({ status: 503, code: "busy", requestId: "req_proxy" });
    expect(proxy.seen).toHaveLength(3);
    // Backoff 1: 125–250 ms, backoff 2: 250–500 ms.
    const waits = [proxy.seen[1]!.at - proxy.seen[0]!.at, proxy.seen[2]!.at - proxy.seen[1]!.at];
    expect(waits[0]).toBeGreaterThanOrEqual(120);
    expect(waits[1]).toBeGreaterThanOrEqual(245);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("does not wait out a Retry-After longer than a minute", async () => {
    proxy.script.push({ status: 503, headers: { "retry-after": "3600" } });
    await expect(
      through().check({ address: nextNumber(), sender: "A", channel: "sms" }),
    ).rejects.toMatchObject({
      status: 503,
      code: "busy",
    });
    expect(proxy.seen).toHaveLength(1);
  });

  it.each([
    { status: 400, code: "invalid_input" },
    { status: 401, code: "unauthorized" },
    { status: 404, code: "not_found" },
    { status: 409, code: "conflict" },
    { status: 500, code: "internal" },
  ])("never retries a $status", async ({ status, code }) => {
    proxy.script.push({ status, headers: { "retry-after": "0" }, body: envelope(code, "no") });
    await expect(through().events.post([])).rejects.toMatchObject({ status, code });
    expect(proxy.seen).toHaveLength(1);
  });

  it("an answer that is not the envelope is an http_error", async () => {
    proxy.script.push({ status: 502, body: "<html>Bad gateway</html>" });
    await expect(
      through().check({ address: nextNumber(), sender: "A", channel: "sms" }),
    ).rejects.toMatchObject({
      status: 502,
      code: "http_error",
    });
  });

  it("times out an attempt that hangs, and retries it", async () => {
    proxy.script.push({ status: 0, hang: true });
    const address = nextNumber();
    const answer = await through({ timeoutMs: 300, retries: 1 }).check({
      address,
      sender: "A",
      channel: "sms",
    });
    expect(answer).toEqual({ address, allowed: true });
    expect(proxy.seen).toHaveLength(2);

    proxy.script.push({ status: 0, hang: true });
    await expect(
      through({ timeoutMs: 300, retries: 0 }).check({ address, sender: "A", channel: "sms" }),
    ).rejects.toMatchObject({ code: "timeout", status: 0 });
  });

  it("the caller's abort ends the call, waits included, and is not retried", async () => {
    proxy.script.push({ status: 503, headers: { "retry-after": "30" } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("caller gave up")), 200);
    await expect(
      through().check({ address: nextNumber(), sender: "A", channel: "sms" }, { signal: controller.signal }),
    ).rejects.toThrow("caller gave up");
    expect(proxy.seen).toHaveLength(1);
  });
});
