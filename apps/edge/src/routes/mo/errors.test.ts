/** Bad webhooks: each refused with its own status, and none of them writes anything. */
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  call,
  createAccount,
  expectError,
  storageSnapshot,
  type TestAccount,
} from "../../../test/helpers.ts";
import { configureProvider, inboundState, mo, postMo, postSigned } from "../../../test/mo.ts";

let account: TestAccount;
let bare: TestAccount;

beforeAll(async () => {
  account = await createAccount({ name: "Acme" });
  bare = await createAccount({ name: "No providers" });
  for (const provider of ["twilio", "generic", "telnyx", "sinch", "messagebird", "vonage"]) {
    await configureProvider(account, provider);
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function expectNothingWritten(run: () => Promise<void>) {
  const before = { storage: await storageSnapshot(), inbound: await inboundState(account.id) };
  await run();
  expect({ storage: await storageSnapshot(), inbound: await inboundState(account.id) }).toEqual(before);
}

describe("unknown webhooks answer 404, all alike", () => {
  it.each([
    { name: "an unknown provider", path: () => `/mo/nexmo/${account.id}` },
    { name: "an unknown account", path: () => "/mo/twilio/acc_doesnotexist" },
    { name: "a provider the account did not configure", path: () => `/mo/plivo/${account.id}` },
    { name: "an account without any provider", path: () => `/mo/twilio/${bare.id}` },
  ])("$name", async ({ path }) => {
    await expectNothingWritten(async () => {
      const res = await call(path(), { method: "POST", body: "From=%2B14155550100&Body=STOP" });
      expect(await expectError(res, 404, "not_found")).toBe(
        "no inbound webhook for this provider and account",
      );
    });
  });
});

describe("body size", () => {
  const big = `Body=STOP&Filler=${"x".repeat(64 * 1024)}`;

  it("refuses a declared Content-Length over 64 KiB with 413", async () => {
    await expectNothingWritten(async () => {
      const res = await call(`/mo/twilio/${account.id}`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "content-length": String(big.length),
        },
        body: big,
      });
      await expectError(res, 413, "payload_too_large");
    });
  });

  it("refuses a streamed body that turns out larger than 64 KiB (no Content-Length)", async () => {
    await expectNothingWritten(async () => {
      const bytes = new TextEncoder().encode(big);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
          controller.close();
        },
      });
      const res = await call(`/mo/twilio/${account.id}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: stream,
      });
      await expectError(res, 413, "payload_too_large");
    });
  });

  it("accepts a body just under the limit", async () => {
    const text = `STOP ${"and more ".repeat(7000)}`.slice(0, 60_000);
    const res = await postMo(account, "twilio", mo(text, { from: "+14155550140" }));
    expect(res.status, await res.clone().text()).toBe(200);
  });
});

describe("stale or future timestamps are refused with 401", () => {
  it.each(["generic", "telnyx", "sinch", "messagebird", "vonage"])("%s", async (provider) => {
    await expectNothingWritten(async () => {
      // Well past the 300 s window either way: a loaded machine may take seconds to verify.
      const stale = Math.floor(Date.now() / 1000) - 330;
      const res = await postMo(account, provider, mo("STOP", { from: "+14155550141" }), { timestamp: stale });
      await expectError(res, 401, "invalid_signature");
      const future = Math.floor(Date.now() / 1000) + 330;
      const ahead = await postMo(account, provider, mo("STOP", { from: "+14155550141" }), {
        timestamp: future,
      });
      await expectError(ahead, 401, "invalid_signature");
    });
  });
});

describe("malformed payloads, correctly signed, are refused with 400", () => {
  it.each([
    {
      name: "truncated JSON",
      provider: "generic",
      body: '{"messages":[{"id":"m-1","from":"+1415',
      type: "application/json",
    },
    {
      name: "a message without a sender",
      provider: "generic",
      body: '{"messages":[{"id":"m-1","to":"+14155550199","text":"STOP"}]}',
      type: "application/json",
    },
    {
      name: "a Twilio form without From",
      provider: "twilio",
      body: "MessageSid=SM1&To=%2B14155550199&Body=STOP&SmsStatus=received",
      type: "application/x-www-form-urlencoded",
    },
    {
      name: "a Telnyx event without a payload",
      provider: "telnyx",
      body: '{"data":{"event_type":"message.received"}}',
      type: "application/json",
    },
  ])("$name", async ({ provider, body, type }) => {
    await expectNothingWritten(async () => {
      await expectError(await postSigned(account, provider, body, type), 400, "invalid_input");
    });
  });

  it("a body that is not UTF-8", async () => {
    await expectNothingWritten(async () => {
      const res = await call(`/mo/generic/${account.id}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      });
      await expectError(res, 400, "invalid_input");
    });
  });
});

describe("what reaches the logs", () => {
  it("rejections name the reason, never the number, text or secret", async () => {
    const lines: string[] = [];
    for (const method of ["log", "warn", "error"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      });
    }
    await postMo(account, "twilio", mo("STOP secret words", { from: "+14155550142" }), {
      secret: "forged-token",
    });
    const body = JSON.stringify({
      messages: [{ id: "log-1", from: "5550143", to: "+14155550199", text: "STOP" }],
    });
    await postSigned(account, "generic", body, "application/json");
    await postMo(account, "twilio", mo("STOP", { from: "+14155550144" }));

    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.filter((e) => e.msg === "mo_rejected").map((e) => e.reason)).toEqual([
      "X-Twilio-Signature does not match",
      "unreadable_sender_address",
    ]);
    expect(entries.filter((e) => e.msg === "mo_applied").at(-1)).toMatchObject({
      accountId: account.id,
      provider: "twilio",
      changed: 1,
    });
    const all = lines.join("\n");
    for (const secret of [
      "4155550142",
      "5550143",
      "4155550144",
      "secret words",
      "twilio-auth-token",
      "forged-token",
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});
