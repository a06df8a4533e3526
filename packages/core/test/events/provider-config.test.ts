import { describe, expect, it } from "vitest";
import {
  ConfiguredProvider,
  EventsUrlProvider,
  mailgunSignatureToken,
  ProviderConfigInput,
  providerConfigProblem,
} from "../../src/index.ts";
import { ecKeyPair } from "./support.ts";

const sendgrid = ecKeyPair();
const TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events";

describe("ConfiguredProvider and EventsUrlProvider", () => {
  it("cover the SMS providers, WhatsApp, generic and the five email providers", () => {
    expect(ConfiguredProvider.options).toEqual(
      expect.arrayContaining([
        "twilio",
        "whatsapp",
        "generic",
        "sendgrid",
        "ses",
        "mailgun",
        "postmark",
        "resend",
      ]),
    );
  });

  it("post events for the email providers and the SMS providers' status callbacks only", () => {
    expect(EventsUrlProvider.options).toEqual(
      expect.arrayContaining(["sendgrid", "ses", "twilio", "messagebird"]),
    );
    expect(EventsUrlProvider.options).not.toContain("generic");
    expect(EventsUrlProvider.options).not.toContain("whatsapp");
  });
});

describe("providerConfigProblem", () => {
  const parse = (body: unknown) => ProviderConfigInput.parse(body);

  it.each([
    { name: "sendgrid base64 SPKI", provider: "sendgrid", body: { secret: sendgrid.spki } },
    { name: "sendgrid PEM", provider: "sendgrid", body: { secret: sendgrid.pem } },
    { name: "ses with topics and no secret", provider: "ses", body: { options: { topicArns: [TOPIC] } } },
    { name: "mailgun signing key", provider: "mailgun", body: { secret: "key-0123456789abcdef" } },
    { name: "postmark basic", provider: "postmark", body: { secret: "hook:pa55word" } },
    { name: "resend whsec_", provider: "resend", body: { secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" } },
    { name: "an SMS provider as before", provider: "twilio", body: { secret: "auth-token" } },
  ] as const)("accepts $name", async ({ provider, body }) => {
    expect(await providerConfigProblem(provider, parse(body))).toBeNull();
  });

  it.each([
    {
      name: "a sendgrid key that is not a P-256 key",
      provider: "sendgrid",
      body: { secret: "bm90IGEga2V5" },
      field: "secret",
    },
    { name: "ses without topics", provider: "ses", body: {}, field: "options.topicArns" },
    {
      name: "ses with a secret",
      provider: "ses",
      body: { secret: "x", options: { topicArns: [TOPIC] } },
      field: "secret",
    },
    {
      name: "topics for another provider",
      provider: "mailgun",
      body: { secret: "k", options: { topicArns: [TOPIC] } },
      field: "options.topicArns",
    },
    {
      name: "topics for an SMS provider",
      provider: "twilio",
      body: { secret: "k", options: { topicArns: [TOPIC] } },
      field: "options.topicArns",
    },
    {
      name: "postmark without a colon",
      provider: "postmark",
      body: { secret: "s3cr3t-no-colon" },
      field: "secret",
    },
    {
      name: "resend secret that is not base64",
      provider: "resend",
      body: { secret: "whsec_***" },
      field: "secret",
    },
    {
      name: "an algorithm for an email provider",
      provider: "mailgun",
      body: { secret: "k", options: { algorithm: "sha1" } },
      field: "options.algorithm",
    },
    { name: "no secret for an email provider", provider: "resend", body: {}, field: "secret" },
    { name: "no secret for an SMS provider", provider: "twilio", body: {}, field: "secret" },
    {
      name: "an SMS provider's own check",
      provider: "bandwidth",
      body: { secret: "no-colon" },
      field: "secret",
    },
  ] as const)("refuses $name, naming $field and never the secret", async ({ provider, body, field }) => {
    const problem = await providerConfigProblem(provider, parse(body));
    expect(problem).toMatch(new RegExp(`^${field.replace(".", "\\.")}:`));
    const secret = "secret" in body ? body.secret : undefined;
    if (secret && secret.length > 3) expect(problem).not.toContain(secret);
  });

  it.each([
    "arn:aws:sns:us-east-1:12345678901:short-account",
    "arn:aws:sqs:us-east-1:123456789012:queue",
    "https://sns.us-east-1.amazonaws.com/",
  ])("refuses %s as a topic ARN", (arn) => {
    expect(ProviderConfigInput.safeParse({ options: { topicArns: [arn] } }).success).toBe(false);
  });

  it("accepts China, GovCloud and FIFO topic ARNs", () => {
    const topics = [
      "arn:aws-cn:sns:cn-north-1:123456789012:events",
      "arn:aws-us-gov:sns:us-gov-west-1:123456789012:events",
      "arn:aws:sns:eu-west-1:123456789012:events.fifo",
    ];
    expect(ProviderConfigInput.parse({ options: { topicArns: topics } }).options.topicArns).toEqual(topics);
  });

  it("refuses unknown options like ProviderCredentialsInput", () => {
    expect(ProviderConfigInput.safeParse({ secret: "x", options: { colour: "red" } }).success).toBe(false);
    expect(ProviderConfigInput.safeParse({ secret: "x", extra: 1 }).success).toBe(false);
  });
});

describe("mailgunSignatureToken", () => {
  it("reads the token the signature covers, or null", () => {
    const body = JSON.stringify({
      signature: { timestamp: "1", token: "abc", signature: "00" },
      "event-data": {},
    });
    expect(mailgunSignatureToken(body)).toBe("abc");
    expect(mailgunSignatureToken("{}")).toBeNull();
    expect(mailgunSignatureToken("not json")).toBeNull();
  });
});
