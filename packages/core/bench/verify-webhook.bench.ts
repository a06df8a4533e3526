import { createHmac, generateKeyPairSync, sign } from "node:crypto";
import { bench, describe } from "vitest";
import { verifyWebhook, type WebhookRequest } from "../src/index.ts";

// Signed with node:crypto, independently of src/ (as the tests do): every verification succeeds.
const NOW = Math.floor(Date.now() / 1000);
const post = (url: string, body: string, headers: Record<string, string>): WebhookRequest => ({
  method: "POST",
  url,
  headers,
  body,
});

const twilioUrl = "https://optout.example.com/mo/twilio/acc_123";
const twilioToken = "0123456789abcdef0123456789abcdef";
const twilioFields = {
  AccountSid: "AC0123456789abcdef0123456789abcdef",
  Body: "STOP",
  From: "+14155550100",
  MessageSid: "SM0123456789abcdef0123456789abcdef",
  NumMedia: "0",
  To: "+14155559000",
};
const twilioBody = new URLSearchParams(twilioFields).toString();
const twilioSigned = Object.entries(twilioFields)
  .sort(([a], [b]) => (a < b ? -1 : 1))
  .map(([k, v]) => k + v)
  .join("");
const twilio = post(twilioUrl, twilioBody, {
  "content-type": "application/x-www-form-urlencoded",
  "x-twilio-signature": createHmac("sha1", twilioToken)
    .update(twilioUrl + twilioSigned)
    .digest("base64"),
});

const genericSecret = "whsec_optout_generic_bench";
const genericBody = JSON.stringify({
  messages: [{ id: "m-1", from: "+14155550100", to: "+14155559000", text: "STOP" }],
});
const generic = post("https://optout.example.com/mo/generic/acc_123", genericBody, {
  "content-type": "application/json",
  "x-optout-signature": `t=${NOW},v1=${createHmac("sha256", genericSecret).update(`${NOW}.${genericBody}`).digest("hex")}`,
});

const { publicKey, privateKey } = generateKeyPairSync("ed25519");
const telnyxKey = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url").toString(
  "base64",
);
const telnyxBody = JSON.stringify({
  data: {
    event_type: "message.received",
    id: "b301ed3f-1490-491f-995f-6e64e69674d4",
    payload: { from: { phone_number: "+14155550100" }, to: [{ phone_number: "+14155559000" }], text: "STOP" },
  },
});
const telnyx = post("https://optout.example.com/mo/telnyx/acc_123", telnyxBody, {
  "content-type": "application/json",
  "telnyx-timestamp": String(NOW),
  "telnyx-signature-ed25519": sign(null, Buffer.from(`${NOW}|${telnyxBody}`), privateKey).toString("base64"),
});

async function mustVerify(provider: string, request: WebhookRequest, secret: string) {
  const result = await verifyWebhook({ provider, request, secret, options: { now: NOW } });
  if (!result.ok) throw new Error(`${provider}: ${result.reason}`);
}

describe("verifyWebhook (valid signatures)", () => {
  bench("twilio: HMAC-SHA1 over URL + sorted form fields", async () => {
    await mustVerify("twilio", twilio, twilioToken);
  });
  bench("generic: HMAC-SHA256 over timestamp + body", async () => {
    await mustVerify("generic", generic, genericSecret);
  });
  bench("telnyx: Ed25519 over timestamp + body", async () => {
    await mustVerify("telnyx", telnyx, telnyxKey);
  });
});
