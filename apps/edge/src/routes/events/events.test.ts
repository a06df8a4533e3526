import { beforeAll, describe, expect, it } from "vitest";
import {
  callJson,
  createAccount,
  expectError,
  storageSnapshot,
  type TestAccount,
} from "../../../test/helpers.ts";
import {
  at,
  checkStrong,
  createRule,
  event,
  nextMessageId,
  postEvents,
  recordEvents,
} from "../../../test/triggers.ts";

let account: TestAccount;
let other: TestAccount;
beforeAll(async () => {
  account = await createAccount({ defaultRegion: "US" });
  other = await createAccount();
  await createRule(account, { name: "bounces", on: { type: "bounced" } });
  await createRule(account, { name: "ghosted", on: { type: "not_opened", withinSeconds: 60 } });
});

describe("POST /v1/events", () => {
  it("records each event and reports its status in input order", async () => {
    const messageId = nextMessageId();
    const result = await recordEvents(account, [
      event({ type: "sent", messageId, address: "(415) 555-0100", campaign: "spring" }),
      event({ type: "delivered", messageId, occurredAt: at(1000) }),
      event({ type: "sent", messageId, occurredAt: at(-1000) }),
    ]);
    expect(result).toEqual({
      results: [
        { messageId, type: "sent", status: "recorded" },
        { messageId, type: "delivered", status: "recorded" },
        { messageId, type: "sent", status: "duplicate" },
      ],
      fired: [],
      deadlinesScheduled: 1,
    });
  });

  it("is idempotent: the same batch twice records nothing the second time", async () => {
    const events = [event({ type: "opened", messageId: nextMessageId() })];
    await recordEvents(account, events);
    const before = await storageSnapshot();
    const again = await recordEvents(account, events);
    expect(again.results[0]!.status).toBe("duplicate");
    expect(await storageSnapshot()).toEqual(before);
  });

  it("message ids are per account: another account's events for the same id are its own", async () => {
    // Finding: account A's `sent` for "order-1001" made account B's `bounced` for that id a 403,
    // B's rules never fired, and the 403/200 difference told A which ids B used.
    const messageId = nextMessageId("order");
    await recordEvents(account, [event({ type: "sent", messageId, address: "+14155550160" })]);
    await createRule(other, { name: "other bounces", on: { type: "bounced" } });
    const result = await recordEvents(other, [
      event({ type: "bounced", messageId, address: "+14155550161" }),
    ]);
    expect(result.results).toEqual([{ messageId, type: "bounced", status: "recorded" }]);
    expect(result.fired).toHaveLength(1);
    expect(await checkStrong(other, "+14155550161")).toMatchObject({ allowed: false });
    // A's message is untouched: its address is not blocked and its own bounce is still new to it.
    expect(await checkStrong(account, "+14155550160")).toMatchObject({ allowed: true });
    const own = await recordEvents(account, [event({ type: "bounced", messageId, address: "+14155550160" })]);
    expect(own.results[0]!.status).toBe("recorded");
    expect(own.fired).toHaveLength(1);
  });

  it("refuses events older than 31 days or more than 15 minutes ahead, naming the event", async () => {
    const before = await storageSnapshot();
    const old = new Date(Date.now() - 32 * 86_400_000).toISOString();
    const message = await expectError(
      await postEvents(account, [
        event({ type: "sent", messageId: nextMessageId() }),
        event({ type: "sent", messageId: nextMessageId(), occurredAt: old }),
      ]),
      400,
      "invalid_input",
    );
    expect(message).toMatch(/^events\.1\.occurredAt: more than 31 days in the past/);
    const ahead = new Date(Date.now() + 16 * 60_000).toISOString();
    const late = await postEvents(account, [
      event({ type: "sent", messageId: nextMessageId(), occurredAt: ahead }),
    ]);
    expect(await expectError(late, 400, "invalid_input")).toMatch(
      /^events\.0\.occurredAt: more than 15 minutes/,
    );
    expect(await storageSnapshot()).toEqual(before);
  });
});

describe("POST /v1/events: bad input is a precise 4xx and writes nothing", () => {
  const messageId = "bad-input-message";
  beforeAll(async () => {
    await recordEvents(account, [event({ type: "sent", messageId, campaign: "spring" })]);
  });

  it.each([
    {
      name: "an unknown event type",
      events: [
        event({ type: "bounced", messageId: "ok-1" }),
        event({ type: "unsubscribed", messageId: "x" }),
      ],
      status: 400,
      code: "invalid_input",
      message: /^events\.1\.type: Invalid option: expected one of "sent"\|"delivered"\|/,
    },
    {
      name: "a batch of 1,001",
      events: Array.from({ length: 1001 }, (_, i) => event({ type: "bounced", messageId: `batch-${i}` })),
      status: 400,
      code: "invalid_input",
      message: /^events: Too big: expected array to have <=1000 items$/,
    },
    {
      name: "an empty batch",
      events: [],
      status: 400,
      code: "invalid_input",
      message: /^events: Too small/,
    },
    {
      name: "an address that is neither phone nor email",
      events: [
        event({ type: "bounced", messageId: "ok-2" }),
        event({ type: "bounced", messageId: "x", address: "nope" }),
      ],
      status: 400,
      code: "invalid_address",
      message: /^events\.1\.address: /,
    },
    {
      name: "an occurredAt far in the future",
      events: [
        event({ type: "sent", messageId: "x", occurredAt: new Date(Date.now() + 3600_000).toISOString() }),
      ],
      status: 400,
      code: "invalid_input",
      message:
        /^events\.0\.occurredAt: more than 15 minutes in the future \(clocks may differ by at most that much\)$/,
    },
    {
      name: "text on an event that is not a reply",
      events: [{ ...event({ type: "bounced", messageId: "x" }), text: "STOP" }],
      status: 400,
      code: "invalid_input",
      message: /^events\.0\.text: text is only allowed on replied events$/,
    },
    {
      name: "an unknown field",
      events: [{ ...event({ type: "bounced", messageId: "x" }), providerStatus: "hard" }],
      status: 400,
      code: "invalid_input",
      message: /providerStatus/,
    },
    {
      name: "an event for a known message with another address",
      events: [
        event({ type: "bounced", messageId: "ok-3" }),
        event({ type: "bounced", messageId, address: "+14155550199" }),
      ],
      status: 409,
      code: "conflict",
      message: /^events\.1\.address: differs from the message's/,
    },
    {
      name: "an event for a known message with another campaign",
      events: [event({ type: "delivered", messageId, campaign: "fall" })],
      status: 409,
      code: "conflict",
      message: /^events\.0\.campaign: /,
    },
    {
      name: "two events of one new message that disagree on the sender",
      events: [
        event({ type: "sent", messageId: "new-1" }),
        event({ type: "bounced", messageId: "new-1", sender: "OTHER" }),
      ],
      status: 400,
      code: "invalid_input",
      message: /^events\.1\.sender: differs from events\.0\.sender of the same messageId$/,
    },
  ])("$name", async ({ events, status, code, message }) => {
    const before = await storageSnapshot();
    expect(await expectError(await postEvents(account, events), status, code)).toMatch(message);
    expect(await storageSnapshot()).toEqual(before);
  });

  it("malformed JSON and a wrong content type", async () => {
    await expectError(await callJson("POST", "/v1/events", account.apiKey, "{"), 400, "malformed_json");
    const res = await callJson("POST", "/v1/events", account.apiKey, undefined);
    await expectError(res, 400, "malformed_json");
  });

  it("another account's conflicting report of the same message id is not a conflict for it", async () => {
    // `messageId` was recorded by `account` with campaign "spring"; for `other` it is a new message.
    const result = await recordEvents(other, [
      event({ type: "sent", messageId, campaign: "autumn", sender: "OTHER", address: "+14155550170" }),
    ]);
    expect(result.results).toEqual([{ messageId, type: "sent", status: "recorded" }]);
  });
});
