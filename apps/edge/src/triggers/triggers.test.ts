/**
 * Trigger rules end to end in workerd: events in through the API (or the edge itself), the
 * scheduled handler run by hand at chosen times, the blocklist and the ledger checked after.
 */
import { env } from "cloudflare:workers";
import type { TriggerEvent } from "@optout/core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  callJson,
  createAccount,
  expectChainValid,
  expectStatus,
  type TestAccount,
  unblock,
} from "../../test/helpers.ts";
import {
  at,
  checkStrong,
  createRule,
  deadlineStatus,
  event,
  evidenceOf,
  nextMessageId,
  type Rule,
  recordEvents,
  runCron,
  SECOND,
  T0,
} from "../../test/triggers.ts";
import { commitWrite } from "../writer/client.ts";
import { runTriggerCron } from "./cron.ts";

/** An event the edge produces itself (a confirmed link click), committed by the account's writer. */
async function recordInternalEvent(account: TestAccount, event: TriggerEvent) {
  const { result } = await commitWrite(env, account.id, { kind: "events", events: [event], strict: false });
  return result;
}

let addressCount = 0;
/** A fresh address per test, so blocklist state never leaks between cases. */
const nextAddress = () => `+1415555${String(2000 + ++addressCount).padStart(4, "0")}`;

async function newAccountWith(
  rules: Record<string, unknown>[],
): Promise<{ account: TestAccount; rules: Rule[] }> {
  const account = await createAccount();
  const created: Rule[] = [];
  for (const r of rules) created.push(await createRule(account, r));
  return { account, rules: created };
}

describe("triggers that fire on arrival", () => {
  let account: TestAccount;
  let rules: Rule[];
  beforeAll(async () => {
    ({ account, rules } = await newAccountWith([
      { name: "bounces", on: { type: "bounced" } },
      { name: "complaints", on: { type: "complained" } },
      { name: "STOP replies", on: { type: "keyword_reply", keywords: ["STOP", "ARRET"] } },
      { name: "opt-out links", on: { type: "link_click" } },
    ]));
  });

  it.each([
    { name: "bounced", rule: 0, type: "bounced", extra: {} },
    { name: "complained", rule: 1, type: "complained", extra: {} },
    { name: "keyword_reply (reply text)", rule: 2, type: "replied", extra: { text: "  Arrêt!! " } },
  ])(
    "$name blocks the address, with evidence naming the rule and the event",
    async ({ rule, type, extra }) => {
      const address = nextAddress();
      const messageId = nextMessageId();
      const before = await checkStrong(account, address);
      expect(before.allowed).toBe(true);

      const result = await recordEvents(account, [
        event({ type, messageId, address, occurredAt: at(5 * SECOND), ...extra }),
      ]);
      expect(result.results).toEqual([{ messageId, type, status: "recorded" }]);
      expect(result.fired).toEqual([
        { ruleId: rules[rule]!.id, messageId, seq: expect.any(Number), appended: true },
      ]);

      const after = await checkStrong(account, address);
      expect(after).toMatchObject({
        allowed: false,
        blockedBy: { source: "trigger", seq: result.fired[0]!.seq },
      });
      const [optOut] = await evidenceOf(account, address);
      expect(optOut).toMatchObject({
        action: "opt_out",
        source: "trigger",
        channel: "*",
        scope: { type: "account" },
        occurredAt: at(5 * SECOND),
        evidence: {
          trigger: { ruleId: rules[rule]!.id, ruleName: rules[rule]!.name, type: rules[rule]!.on.type },
          messageId,
          events: [{ type, messageId, occurredAt: at(5 * SECOND), origin: "api" }],
        },
      });
      // The reply's text is not evidence (it may hold anything); the rule and event are.
      expect(JSON.stringify(optOut!.evidence)).not.toContain("Arrêt");
    },
  );

  it("keyword_reply ignores replies that are not exactly a keyword", async () => {
    const address = nextAddress();
    const result = await recordEvents(account, [
      event({ type: "replied", messageId: nextMessageId(), address, text: "please don't stop" }),
    ]);
    expect(result.fired).toEqual([]);
    expect((await checkStrong(account, address)).allowed).toBe(true);
  });

  it("a clicked event posted by the account is not an opt-out link click", async () => {
    const address = nextAddress();
    const result = await recordEvents(account, [
      event({ type: "clicked", messageId: nextMessageId(), address }),
    ]);
    expect(result.fired).toEqual([]);
  });

  it("link_click: the edge's own click event fires it", async () => {
    const address = nextAddress();
    const messageId = nextMessageId();
    const result = await recordInternalEvent(account, {
      type: "clicked",
      origin: "link",
      messageId,
      address,
      sender: null,
      channel: "*",
      occurredAt: at(60 * SECOND),
      campaign: null,
    });
    expect(result.fired).toEqual([
      { ruleId: rules[3]!.id, messageId, seq: expect.any(Number), appended: true },
    ]);
    expect((await checkStrong(account, address)).allowed).toBe(false);
    // Replayed (a second POST of the page): recorded once, fires once.
    const again = await recordInternalEvent(account, {
      type: "clicked",
      origin: "link",
      messageId,
      address,
      sender: null,
      channel: "*",
      occurredAt: at(61 * SECOND),
      campaign: null,
    });
    expect(again).toMatchObject({ results: [{ status: "duplicate" }], fired: [] });
  });

  it("link_click: confirming an opt-out link page records the click and fires the rule", async () => {
    const address = nextAddress();
    const messageId = nextMessageId("link");
    const minted = await expectStatus<{ url: string }>(
      await callJson("POST", "/v1/links", account.apiKey, {
        address,
        channel: "sms",
        scope: { type: "sender", sender: "ACME" },
        sender: "ACME",
        messageId,
      }),
      201,
    );
    const { pathname } = new URL(minted.url);
    const { call } = await import("../../test/helpers.ts");
    const res = await call(pathname, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": "203.0.113.77" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(res.status, await res.clone().text()).toBe(200);
    // The link itself blocked ACME on sms; the link_click rule (account scope, every channel)
    // blocked the address for every sender and channel.
    expect((await checkStrong(account, address, "OTHER", "email")).allowed).toBe(false);
    const events = await evidenceOf(account, address);
    expect(events.map((e) => e.source)).toEqual(["link", "trigger"]);
    expect(events[1]!.evidence).toMatchObject({
      trigger: { ruleId: rules[3]!.id, type: "link_click" },
      messageId,
      events: [{ type: "clicked", origin: "link" }],
    });
  });

  it("a duplicate event fires nothing again, even after the address was opted back in", async () => {
    const address = nextAddress();
    const messageId = nextMessageId();
    const bounce = event({ type: "bounced", messageId, address, occurredAt: at(0) });
    const first = await recordEvents(account, [bounce]);
    expect(first.fired).toHaveLength(1);
    await expectStatus(await unblock(account, { address }), 200);
    expect((await checkStrong(account, address)).allowed).toBe(true);

    const replay = await recordEvents(account, [bounce, { ...bounce, occurredAt: at(-SECOND) }]);
    expect(replay).toEqual({
      results: [
        { messageId, type: "bounced", status: "duplicate" },
        { messageId, type: "bounced", status: "duplicate" },
      ],
      fired: [],
      deadlinesScheduled: 0,
    });
    expect((await checkStrong(account, address)).allowed).toBe(true);
    expect((await evidenceOf(account, address)).map((e) => e.action)).toEqual(["opt_out", "opt_in"]);
  });

  it("a late event orders by when it happened: it cannot undo a later opt-in", async () => {
    const address = nextAddress();
    // The end user opted back in (now); a week-old complaint arrives afterwards.
    await expectStatus(await callJson("POST", "/v1/blocklist", account.apiKey, { address }), 201);
    await expectStatus(await unblock(account, { address }), 200);
    const late = await recordEvents(account, [
      event({
        type: "complained",
        messageId: nextMessageId(),
        address,
        occurredAt: at(-7 * 24 * 3600 * SECOND),
      }),
    ]);
    expect(late.fired).toEqual([expect.objectContaining({ appended: true })]);
    // Recorded for audit, not applied: the later opt-in still wins.
    expect((await checkStrong(account, address)).allowed).toBe(true);
  });

  it("an address already blocked there gets no second event", async () => {
    const address = nextAddress();
    const first = await recordEvents(account, [
      event({ type: "bounced", messageId: nextMessageId(), address }),
    ]);
    const second = await recordEvents(account, [
      event({ type: "complained", messageId: nextMessageId(), address }),
    ]);
    expect(second.fired).toEqual([expect.objectContaining({ appended: false, seq: first.fired[0]!.seq })]);
    expect(await evidenceOf(account, address)).toHaveLength(1);
  });

  it("several rules and events in one batch fire in one request", async () => {
    const a = nextAddress();
    const b = nextAddress();
    const result = await recordEvents(account, [
      event({ type: "sent", messageId: "batch-1", address: a }),
      event({ type: "bounced", messageId: "batch-1", address: a }),
      event({ type: "replied", messageId: "batch-2", address: b, text: "stop" }),
      event({ type: "complained", messageId: "batch-2", address: b }),
    ]);
    expect(result.fired.map((f) => [f.messageId, f.appended])).toEqual([
      ["batch-1", true],
      ["batch-2", true],
      ["batch-2", false],
    ]);
  });
});

describe("rule filters", () => {
  it("channel, sender scope and campaign decide which events a rule watches and what it blocks", async () => {
    const account = await createAccount();
    await expectStatus(await callJson("POST", "/v1/senders", account.apiKey, { sender: "ACME" }), 201);
    const emailOnly = await createRule(account, {
      name: "email bounces",
      on: { type: "bounced" },
      channel: "email",
    });
    const acmeOnly = await createRule(account, {
      name: "ACME complaints",
      on: { type: "complained" },
      channel: "sms",
      scope: { type: "sender", sender: "ACME" },
      campaign: "spring",
    });

    const address = nextAddress();
    const result = await recordEvents(account, [
      event({ type: "bounced", messageId: nextMessageId(), address }), // sms: not watched
      event({ type: "complained", messageId: nextMessageId(), address, sender: "OTHER", campaign: "spring" }),
      event({ type: "complained", messageId: nextMessageId(), address, campaign: "fall" }),
      event({ type: "complained", messageId: nextMessageId(), address, campaign: "spring" }), // fires
    ]);
    expect(result.fired.map((f) => f.ruleId)).toEqual([acmeOnly.id]);
    expect(emailOnly.channel).toBe("email");
    // Sender scope: ACME on sms is blocked; another sender, or another channel, is not.
    expect((await checkStrong(account, address, "ACME", "sms")).allowed).toBe(false);
    expect((await checkStrong(account, address, "OTHER", "sms")).allowed).toBe(true);
    expect((await checkStrong(account, address, "ACME", "email")).allowed).toBe(true);
  });

  it("a disabled rule neither fires nor starts deadlines; a deleted one stops at once", async () => {
    const account = await createAccount();
    await createRule(account, { name: "off", on: { type: "bounced" }, enabled: false });
    const live = await createRule(account, { name: "on", on: { type: "complained" } });
    const address = nextAddress();
    expect(
      (await recordEvents(account, [event({ type: "bounced", messageId: nextMessageId(), address })])).fired,
    ).toEqual([]);
    await expectStatus(await callJson("DELETE", `/v1/triggers/${live.id}`, account.apiKey), 200);
    expect(
      (await recordEvents(account, [event({ type: "complained", messageId: nextMessageId(), address })]))
        .fired,
    ).toEqual([]);
  });
});

describe("not_opened", () => {
  const DEADLINE = 60 * SECOND;
  let account: TestAccount;
  let rule: Rule;
  beforeAll(async () => {
    ({
      account,
      rules: [rule],
    } = (await newAccountWith([
      { name: "ghosted", on: { type: "not_opened", withinSeconds: 60, after: "sent" } },
    ])) as {
      account: TestAccount;
      rules: [Rule];
    });
  });

  it("fires at the first cron run at or after the deadline, counting from occurredAt, not arrival", async () => {
    const address = nextAddress();
    const messageId = nextMessageId();
    // Arrives hours after it was sent (T0 is in the past): the deadline is still T0 + 60 s.
    const posted = await recordEvents(account, [
      event({ type: "sent", messageId, address, occurredAt: at(0) }),
    ]);
    expect(posted.deadlinesScheduled).toBe(1);
    expect(await deadlineStatus(messageId)).toEqual([
      { ruleId: rule.id, dueAt: at(DEADLINE), status: "pending", reason: null },
    ]);

    await runCron(T0 + DEADLINE - 1);
    expect((await deadlineStatus(messageId))[0]!.status).toBe("pending");
    expect((await checkStrong(account, address)).allowed).toBe(true);

    await runCron(T0 + DEADLINE);
    expect((await deadlineStatus(messageId))[0]!.status).toBe("fired");
    const check = await checkStrong(account, address);
    expect(check).toMatchObject({ allowed: false, blockedBy: { source: "trigger" } });
    const [optOut] = await evidenceOf(account, address);
    expect(optOut).toMatchObject({
      source: "trigger",
      seq: check.blockedBy!.seq,
      // The opt-out happened at the deadline, whenever the cron ran.
      occurredAt: at(DEADLINE),
      evidence: {
        trigger: {
          ruleId: rule.id,
          ruleName: "ghosted",
          type: "not_opened",
          withinSeconds: 60,
          after: "sent",
        },
        messageId,
        events: [{ type: "sent", messageId, occurredAt: at(0), origin: "api" }],
        deadline: at(DEADLINE),
      },
    });

    // Later runs, and an open that arrives after it fired, change nothing.
    await runCron(T0 + 10 * DEADLINE);
    await recordEvents(account, [
      event({ type: "opened", messageId, address, occurredAt: at(DEADLINE - SECOND) }),
    ]);
    await runCron(T0 + 20 * DEADLINE);
    expect((await checkStrong(account, address)).allowed).toBe(false);
    expect(await evidenceOf(account, address)).toHaveLength(1);
  });

  it.each([
    {
      name: "1 ms before the deadline: cancelled, stays allowed",
      openedAt: DEADLINE - 1,
      allowed: true,
      status: "cancelled",
    },
    { name: "exactly at the deadline: fires", openedAt: DEADLINE, allowed: false, status: "fired" },
    { name: "1 ms after the deadline: fires", openedAt: DEADLINE + 1, allowed: false, status: "fired" },
  ])("an open $name", async ({ openedAt, allowed, status }) => {
    const address = nextAddress();
    const messageId = nextMessageId();
    await recordEvents(account, [
      event({ type: "sent", messageId, address, occurredAt: at(0) }),
      event({ type: "opened", messageId, address, occurredAt: at(openedAt) }),
    ]);
    await runCron(T0 + 2 * DEADLINE);
    expect((await deadlineStatus(messageId))[0]!.status).toBe(status);
    expect((await checkStrong(account, address)).allowed).toBe(allowed);
  });

  it("a click counts as an open", async () => {
    const address = nextAddress();
    const messageId = nextMessageId();
    await recordEvents(account, [
      event({ type: "sent", messageId, address }),
      event({ type: "clicked", messageId, address, occurredAt: at(30 * SECOND) }),
    ]);
    await runCron(T0 + 2 * DEADLINE);
    expect(await deadlineStatus(messageId)).toEqual([
      expect.objectContaining({ status: "cancelled", reason: "clicked" }),
    ]);
  });

  it("a confirmed opt-out link click on the message counts as an open", async () => {
    const address = nextAddress();
    const messageId = nextMessageId();
    await recordEvents(account, [event({ type: "sent", messageId, address })]);
    const click = await recordInternalEvent(account, {
      type: "clicked",
      origin: "link",
      messageId,
      address,
      sender: null,
      channel: "*",
      occurredAt: at(30 * SECOND),
      campaign: null,
    });
    expect(click.results).toEqual([{ messageId, type: "clicked", status: "recorded" }]);
    await runCron(T0 + 2 * DEADLINE);
    expect(await deadlineStatus(messageId)).toEqual([
      expect.objectContaining({ status: "cancelled", reason: "clicked" }),
    ]);
  });

  it("out of order: an open that arrives before its sent still cancels the deadline", async () => {
    const address = nextAddress();
    const messageId = nextMessageId();
    await recordEvents(account, [event({ type: "opened", messageId, address, occurredAt: at(10 * SECOND) })]);
    const sent = await recordEvents(account, [
      event({ type: "sent", messageId, address, occurredAt: at(0) }),
    ]);
    // The sent still starts the deadline (so a cancel below is the cron's decision, not a no-op)...
    expect(sent.deadlinesScheduled).toBe(1);
    expect(await deadlineStatus(messageId)).toEqual([expect.objectContaining({ status: "pending" })]);
    await runCron(T0 + 2 * DEADLINE);
    // ...which the earlier open cancels: settled as cancelled, nothing fired, nothing blocked.
    expect(await deadlineStatus(messageId)).toEqual([
      expect.objectContaining({ status: "cancelled", reason: "opened" }),
    ]);
    expect((await checkStrong(account, address)).allowed).toBe(true);
  });

  it("late: an open that arrives after the deadline but before the cron, and happened before it, cancels", async () => {
    const address = nextAddress();
    const messageId = nextMessageId();
    await recordEvents(account, [event({ type: "sent", messageId, address, occurredAt: at(0) })]);
    await recordEvents(account, [
      event({ type: "opened", messageId, address, occurredAt: at(DEADLINE - SECOND) }),
    ]);
    await runCron(T0 + 5 * DEADLINE);
    expect((await deadlineStatus(messageId))[0]!.status).toBe("cancelled");
  });

  it("a re-reported sent with an earlier time moves the deadline earlier; a later one does not", async () => {
    const address = nextAddress();
    const messageId = nextMessageId();
    await recordEvents(account, [event({ type: "sent", messageId, address, occurredAt: at(10 * SECOND) })]);
    const later = await recordEvents(account, [
      event({ type: "sent", messageId, address, occurredAt: at(20 * SECOND) }),
    ]);
    expect(later.results[0]!.status).toBe("duplicate");
    expect((await deadlineStatus(messageId))[0]!.dueAt).toBe(at(70 * SECOND));
    await recordEvents(account, [event({ type: "sent", messageId, address, occurredAt: at(0) })]);
    expect((await deadlineStatus(messageId))[0]!.dueAt).toBe(at(DEADLINE));
  });

  it("duplicate sent events start one deadline and fire once", async () => {
    const address = nextAddress();
    const messageId = nextMessageId();
    const sent = event({ type: "sent", messageId, address });
    await recordEvents(account, [sent, sent]);
    await recordEvents(account, [sent]);
    expect(await deadlineStatus(messageId)).toHaveLength(1);
    await Promise.all([runCron(T0 + 2 * DEADLINE), runCron(T0 + 2 * DEADLINE)]);
    await runCron(T0 + 3 * DEADLINE);
    expect(await evidenceOf(account, address)).toHaveLength(1);
  });

  it("after: delivered waits for the delivered event", async () => {
    const { account: acc } = await newAccountWith([
      { name: "unread", on: { type: "not_opened", withinSeconds: 3600, after: "delivered" } },
    ]);
    const address = nextAddress();
    const messageId = nextMessageId();
    expect((await recordEvents(acc, [event({ type: "sent", messageId, address })])).deadlinesScheduled).toBe(
      0,
    );
    expect(
      (
        await recordEvents(acc, [
          event({ type: "delivered", messageId, address, occurredAt: at(5 * SECOND) }),
        ])
      ).deadlinesScheduled,
    ).toBe(1);
    expect((await deadlineStatus(messageId))[0]!.dueAt).toBe(at(3605 * SECOND));
  });

  it("a deadline whose rule was deleted is skipped when due", async () => {
    const { account: acc, rules: created } = await newAccountWith([
      { name: "temp", on: { type: "not_opened", withinSeconds: 60 } },
    ]);
    const address = nextAddress();
    const messageId = nextMessageId();
    await recordEvents(acc, [event({ type: "sent", messageId, address })]);
    await expectStatus(await callJson("DELETE", `/v1/triggers/${created[0]!.id}`, acc.apiKey), 200);
    await runCron(T0 + 2 * DEADLINE);
    expect(await deadlineStatus(messageId)).toEqual([
      expect.objectContaining({ status: "skipped", reason: "rule_deleted" }),
    ]);
    expect((await checkStrong(acc, address)).allowed).toBe(true);
  });

  it("settling races live changes of the same account: each lands once, the chain stays whole", async () => {
    const address = nextAddress();
    const messageId = nextMessageId();
    await recordEvents(account, [event({ type: "sent", messageId, address })]);
    // The cron's settlement and a burst of API changes reach the account's writer together.
    const others = Array.from({ length: 20 }, (_, i) => `+1415556${String(1000 + i).padStart(4, "0")}`);
    const [report] = await Promise.all([
      runTriggerCron({ env }, new Date(T0 + 2 * DEADLINE)),
      ...others.map((a) =>
        callJson("POST", "/v1/blocklist", account.apiKey, { address: a }).then((r) => r.text()),
      ),
    ]);
    expect(report.fired).toBeGreaterThanOrEqual(1);
    expect(await deadlineStatus(messageId)).toEqual([expect.objectContaining({ status: "fired" })]);
    expect(await evidenceOf(account, address)).toHaveLength(1);
    for (const a of others) expect((await checkStrong(account, a)).allowed).toBe(false);
    await expectChainValid(account.id);
  });

  it("a run that finds the rule already fired for the message settles without firing again", async () => {
    const address = nextAddress();
    const messageId = nextMessageId();
    await recordEvents(account, [event({ type: "sent", messageId, address })]);
    await runCron(T0 + 2 * DEADLINE);
    // Pretend the settle write was lost: the deadline is pending again, the firing row exists.
    await env.DB.prepare("UPDATE trigger_deadlines SET status = 'pending' WHERE message_id = ?")
      .bind(messageId)
      .run();
    await runCron(T0 + 3 * DEADLINE);
    expect(await deadlineStatus(messageId)).toEqual([
      expect.objectContaining({ status: "fired", reason: "already_fired" }),
    ]);
    expect(await evidenceOf(account, address)).toHaveLength(1);
  });
});
