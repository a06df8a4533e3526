#!/usr/bin/env node
// Posts a provider event webhook to the edge exactly as the provider would: an email provider's
// event (SendGrid, Amazon SES through SNS, Mailgun, Postmark, Resend) or an SMS provider's status
// callback (Twilio, Telnyx, Vonage), signed with the provider's scheme. For trying
// POST /events/{provider}/{accountId} against `pnpm dev`.
//
//   node scripts/send-event.mjs --provider sendgrid --account acc_... --secret <PKCS#8 private key> \
//     --type unsubscribed --to reader@example.com
//   node scripts/send-event.mjs --provider twilio --account acc_... --secret <auth token> \
//     --status opted_out --to +14155550100 --from +14155550199
//
// Prints the status and the body; exits 1 unless the answer is 2xx. No addresses are logged by
// the edge; this script prints only what you passed it.
import { parseArgs } from "node:util";
import {
  EMAIL_EVENT_TYPES,
  EMAIL_PROVIDERS,
  emailEvent,
  STATUS_PROVIDERS,
  sendgridKeyPair,
  signEventWebhook,
  snsSigningKey,
  snsSubscriptionConfirmation,
  statusCallback,
} from "./event-payloads.mjs";
import { telnyxKeyPair } from "./mo-payloads.mjs";

const USAGE = `usage: node scripts/send-event.mjs --provider P --account acc_... --secret S [options]

Posts a signed event webhook to /events/{provider}/{account}.

  --provider P       email: ${EMAIL_PROVIDERS.join(", ")}; SMS status callbacks: ${STATUS_PROVIDERS.join(", ")}
  --account ID       the account id (required)
  --secret S         what signs: SendGrid/SES the PKCS#8 private key (base64; see --keys), Mailgun the
                     signing key, Postmark user:password, Resend whsec_…, Twilio/Vonage the secret
                     stored for it, Telnyx the PKCS#8 private key
  --type T           email event: ${EMAIL_EVENT_TYPES.join(", ")} (default unsubscribed)
  --status S         SMS status: sent, delivered, opted_out (default opted_out)
  --to A, --from A   recipient and sender (defaults reader@example.com / news@acme.test, or
                     +14155550100 / +14155550199 for SMS)
  --message-id ID    your own message id (optout_message_id) on email events
  --id ID            the provider's event id (repeat one to try redelivery)
  --topic ARN        SES: the SNS topic (default arn:aws:sns:us-east-1:123456789012:ses-events)
  --cert-url URL     SES: the SigningCertURL (must be https://sns.<region>.amazonaws.com/….pem; the
                     edge fetches it from SNS_BASE_URL_OVERRIDE in development)
  --confirm          SES: send a SubscriptionConfirmation instead of an event
  --keys             print a new key pair for --provider (sendgrid, ses, telnyx) and exit
  --base URL         the edge (default $EDGE_URL or http://127.0.0.1:$EDGE_PORT|8787)
  --forge            sign with a wrong secret (expect 401)
  --stale            sign with a timestamp 2 hours old (expect 401 where the scheme has a window)
`;

let parsed;
try {
  parsed = parseArgs({
    options: {
      help: { type: "boolean", short: "h", default: false },
      provider: { type: "string", default: "sendgrid" },
      account: { type: "string" },
      secret: { type: "string" },
      type: { type: "string", default: "unsubscribed" },
      status: { type: "string", default: "opted_out" },
      to: { type: "string" },
      from: { type: "string" },
      "message-id": { type: "string" },
      id: { type: "string" },
      topic: { type: "string", default: "arn:aws:sns:us-east-1:123456789012:ses-events" },
      "cert-url": {
        type: "string",
        default: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-optout-dev.pem",
      },
      confirm: { type: "boolean", default: false },
      keys: { type: "boolean", default: false },
      base: {
        type: "string",
        default: process.env.EDGE_URL ?? `http://127.0.0.1:${process.env.EDGE_PORT ?? "8787"}`,
      },
      forge: { type: "boolean", default: false },
      stale: { type: "boolean", default: false },
    },
  });
} catch (err) {
  console.error(`send-event: ${err.message}\n\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const fail = (message) => {
  console.error(`send-event: ${message}`);
  process.exit(2);
};
const provider = values.provider;
const email = EMAIL_PROVIDERS.includes(provider);
if (!email && !STATUS_PROVIDERS.includes(provider)) {
  fail(`--provider must be one of ${[...EMAIL_PROVIDERS, ...STATUS_PROVIDERS].join(", ")}`);
}

if (values.keys) {
  if (provider === "sendgrid") {
    const { publicKey, privateKeyPkcs8 } = await sendgridKeyPair();
    console.log(JSON.stringify({ publicKey, privateKey: privateKeyPkcs8 }, null, 2));
    console.log("# store publicKey with PUT /v1/providers/sendgrid; sign with --secret <privateKey>");
  } else if (provider === "ses") {
    const { privateKeyPkcs8, certificatePem } = await snsSigningKey();
    console.log(certificatePem);
    console.log(JSON.stringify({ privateKey: privateKeyPkcs8 }, null, 2));
    console.log(
      "# serve the certificate at <SNS_BASE_URL_OVERRIDE>/<sns host>/<path of --cert-url>; sign with --secret <privateKey>",
    );
  } else if (provider === "telnyx") {
    const { publicKey, privateKeyPkcs8 } = await telnyxKeyPair();
    console.log(JSON.stringify({ publicKey, privateKey: privateKeyPkcs8 }, null, 2));
  } else fail("--keys makes key pairs for sendgrid, ses and telnyx");
  process.exit(0);
}
if (!values.account) fail("--account acc_... is required");
if (!values.secret) fail("--secret is required");

let secret = values.secret;
if (values.forge) {
  if (provider === "sendgrid") secret = (await sendgridKeyPair()).privateKeyPkcs8;
  else if (provider === "ses") secret = (await snsSigningKey()).privateKeyPkcs8;
  else if (provider === "telnyx") secret = (await telnyxKeyPair()).privateKeyPkcs8;
  else if (provider === "resend") secret = "whsec_Zm9yZ2VkLXNlY3JldC1mb3JnZWQtc2VjcmV0";
  else secret = `${values.secret}-forged`;
}
if (provider === "ses") secret = { privateKey: secret, certUrl: values["cert-url"], topicArn: values.topic };

const url = `${values.base.replace(/\/+$/, "")}/events/${provider}/${values.account}`;
const id = values.id ?? `ev-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
let payload;
if (provider === "ses" && values.confirm) {
  payload = { body: JSON.stringify(snsSubscriptionConfirmation(values.topic)), contentType: "text/plain" };
} else if (email) {
  payload = emailEvent(provider, {
    type: values.type,
    id,
    providerMessageId: `pm-${id}`,
    messageId: values["message-id"],
    to: values.to ?? "reader@example.com",
    from: values.from ?? "news@acme.test",
    at: new Date(),
  });
  if (!payload) fail(`${provider} has no ${values.type} event`);
} else {
  payload = statusCallback(provider, {
    id,
    from: values.from ?? "+14155550199",
    to: values.to ?? "+14155550100",
    status: values.status,
  });
}
const signed = await signEventWebhook(provider, {
  url,
  body: payload.body,
  contentType: payload.contentType,
  secret,
  id,
  timestamp: values.stale ? Math.floor(Date.now() / 1000) - 7200 : undefined,
});

const started = performance.now();
const res = await fetch(signed.url, { method: "POST", headers: signed.headers, body: signed.body });
const text = await res.text();
console.log(`${res.status} (${(performance.now() - started).toFixed(0)} ms, event id ${id})`);
if (text) console.log(text);
process.exit(res.ok ? 0 : 1);
