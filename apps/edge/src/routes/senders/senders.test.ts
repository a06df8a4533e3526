import { describe, expect, it } from "vitest";
import {
  bearer,
  call,
  callJson,
  createAccount,
  expectError,
  expectStatus,
  storageSnapshot,
} from "../../../test/helpers.ts";

describe("POST and GET /v1/senders", () => {
  it("registers once (201, then 200) and lists the account's senders only", async () => {
    const account = await createAccount();
    const stranger = await createAccount();
    const first = await expectStatus(
      await callJson("POST", "/v1/senders", account.apiKey, { sender: " ACME " }),
      201,
    );
    expect(first).toEqual({ sender: "ACME", createdAt: expect.any(String) });
    expect(
      await expectStatus(await callJson("POST", "/v1/senders", account.apiKey, { sender: "ACME" }), 200),
    ).toEqual(first);
    await expectStatus(
      await callJson("POST", "/v1/senders", account.apiKey, { sender: "+14155550100" }),
      201,
    );

    const list = await expectStatus(await call("/v1/senders", { headers: bearer(account.apiKey) }), 200);
    expect(list.items.map((s: { sender: string }) => s.sender)).toEqual(["+14155550100", "ACME"]);
    expect(await expectStatus(await call("/v1/senders", { headers: bearer(stranger.apiKey) }), 200)).toEqual({
      items: [],
    });
  });

  it.each([
    { name: "an empty sender", body: { sender: "  " } },
    { name: "a sender over 128 characters", body: { sender: "x".repeat(129) } },
    { name: "an unknown field", body: { sender: "ACME", channel: "sms" } },
  ])("rejects $name with 400 and writes nothing", async ({ body }) => {
    const account = await createAccount();
    const before = await storageSnapshot();
    await expectError(await callJson("POST", "/v1/senders", account.apiKey, body), 400, "invalid_input");
    expect(await storageSnapshot()).toEqual(before);
  });
});
