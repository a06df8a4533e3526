import { describe, expect, it } from "vitest";
import {
  buildSendRequest,
  type SendCredentials,
  sendCredentialsProblem,
  sendOutcome,
} from "../../src/index.ts";

const base = {
  from: "+14155550199",
  to: "+14155550100",
  text: "Acme: you are unsubscribed. Reply START to resubscribe.",
};

describe("buildSendRequest", () => {
  it.each([
    {
      provider: "vonage" as const,
      credentials: { apiKey: "k", apiSecret: "s" },
      url: "https://rest.nexmo.com/sms/json",
      auth: undefined,
      body: (b: string) => Object.fromEntries(new URLSearchParams(b)),
      expected: { api_key: "k", api_secret: "s", from: "14155550199", to: "14155550100", text: base.text },
    },
    {
      provider: "telnyx" as const,
      credentials: { apiKey: "KEY" },
      url: "https://api.telnyx.com/v2/messages",
      auth: "Bearer KEY",
      body: JSON.parse,
      expected: { from: base.from, to: base.to, text: base.text },
    },
    {
      provider: "infobip" as const,
      credentials: { apiKey: "ib" },
      url: "https://api.infobip.com/sms/2/text/advanced",
      auth: "App ib",
      body: JSON.parse,
      expected: {
        messages: [{ from: "14155550199", destinations: [{ to: "14155550100" }], text: base.text }],
      },
    },
    {
      provider: "sinch" as const,
      credentials: { servicePlanId: "plan1", apiToken: "tok" },
      url: "https://us.sms.api.sinch.com/xms/v1/plan1/batches",
      auth: "Bearer tok",
      body: JSON.parse,
      expected: { from: "14155550199", to: ["14155550100"], body: base.text },
    },
    {
      provider: "bandwidth" as const,
      credentials: { accountId: "9900000", applicationId: "app-1", basicAuth: "user:pass" },
      url: "https://messaging.bandwidth.com/api/v2/users/9900000/messages",
      auth: `Basic ${btoa("user:pass")}`,
      body: JSON.parse,
      expected: { applicationId: "app-1", from: base.from, to: [base.to], text: base.text },
    },
    {
      provider: "messagebird" as const,
      credentials: { accessKey: "ak", workspaceId: "ws", channelId: "ch" },
      url: "https://api.bird.com/workspaces/ws/channels/ch/messages",
      auth: "AccessKey ak",
      body: JSON.parse,
      expected: {
        receiver: { contacts: [{ identifierValue: base.to }] },
        body: { type: "text", text: { text: base.text } },
      },
    },
  ])("$provider", ({ provider, credentials, url, auth, body, expected }) => {
    const baseUrl = {
      vonage: "https://rest.nexmo.com",
      telnyx: "https://api.telnyx.com/",
      infobip: "https://api.infobip.com",
      sinch: "https://us.sms.api.sinch.com",
      bandwidth: "https://messaging.bandwidth.com",
      messagebird: "https://api.bird.com",
    }[provider];
    const request = buildSendRequest({
      provider,
      credentials: credentials as SendCredentials,
      baseUrl,
      ...base,
    });
    expect(request.url).toBe(url);
    expect(request.headers.authorization).toBe(auth);
    expect(body(request.body)).toEqual(expected);
    expect(sendCredentialsProblem(provider, credentials as SendCredentials)).toBeNull();
  });

  it("sends Vonage text outside GSM-7 as unicode", () => {
    const request = buildSendRequest({
      provider: "vonage",
      credentials: { apiKey: "k", apiSecret: "s" },
      baseUrl: "https://rest.nexmo.com",
      ...base,
      text: "Acme : désinscrit. Répondez START — merci",
    });
    expect(new URLSearchParams(request.body).get("type")).toBe("unicode");
  });
});

describe("sendCredentialsProblem", () => {
  it.each([
    { name: "a missing field", provider: "vonage" as const, send: { apiKey: "k" } },
    { name: "a foreign field", provider: "telnyx" as const, send: { apiKey: "k", apiSecret: "s" } },
    {
      name: "Basic without a colon",
      provider: "bandwidth" as const,
      send: { accountId: "1", applicationId: "a", basicAuth: "x" },
    },
    { name: "an inline-reply provider", provider: "twilio" as const, send: { apiKey: "k" } },
    { name: "WhatsApp", provider: "whatsapp" as const, send: { apiKey: "k" } },
  ])("refuses $name", ({ provider, send }) => {
    expect(sendCredentialsProblem(provider, send)).toMatch(/^send/);
  });
});

describe("sendOutcome", () => {
  it.each([
    { provider: "telnyx" as const, status: 200, body: "{}", outcome: "sent" },
    { provider: "telnyx" as const, status: 429, body: "", outcome: "retry" },
    { provider: "sinch" as const, status: 503, body: "", outcome: "retry" },
    { provider: "infobip" as const, status: 401, body: "", outcome: "failed" },
    { provider: "vonage" as const, status: 200, body: '{"messages":[{"status":"0"}]}', outcome: "sent" },
    { provider: "vonage" as const, status: 200, body: '{"messages":[{"status":"1"}]}', outcome: "retry" },
    { provider: "vonage" as const, status: 200, body: '{"messages":[{"status":"4"}]}', outcome: "failed" },
    {
      provider: "vonage" as const,
      status: 200,
      body: '{"messages":[{"status":"0"},{"status":"1"}]}',
      outcome: "failed",
    },
    { provider: "vonage" as const, status: 200, body: "not json", outcome: "failed" },
  ])("$provider $status $body → $outcome", ({ provider, status, body, outcome }) => {
    expect(sendOutcome(provider, status, body).outcome).toBe(outcome);
  });
});
