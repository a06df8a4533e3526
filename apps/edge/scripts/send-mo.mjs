#!/usr/bin/env node
// Posts an inbound message (MO) to the edge exactly as an SMS provider would: the provider's
// payload, signed with the provider's scheme. For trying webhooks against `pnpm dev` and for
// load tests.
//
//   node scripts/send-mo.mjs --provider twilio --account acc_... --secret <auth token> \
//     --from +14155550100 --to +14155550199 --text 'Stop.' [--id SM...] [--base http://127.0.0.1:8787]
//   node scripts/send-mo.mjs --provider whatsapp --account acc_... --secret <app secret> --button 'Stop promotions'
//   node scripts/send-mo.mjs --provider whatsapp --account acc_... --secret <app secret> --status read --id wamid...
//
// --secret is what the account stored with PUT /v1/providers/{provider} (for telnyx: the
// PKCS#8 private key in base64; `--telnyx-keys` prints a new pair). --algorithm picks Vonage's
// method (sha1, sha256, sha512). --forge signs with a wrong secret; --stale with a timestamp
// 10 minutes old. Prints the status and the body; exits 1 unless the answer is 2xx.
import { parseArgs } from "node:util";
import { inboundPayload, PROVIDERS, signWebhook, telnyxKeyPair, whatsappPayload } from "./mo-payloads.mjs";

const ALL_PROVIDERS = [...PROVIDERS, "whatsapp"];

const USAGE = `usage: node scripts/send-mo.mjs --account acc_... --secret <secret> [options]

Posts an inbound message to /mo/{provider}/{account}, signed as the provider signs it.

  --provider P     ${"twilio"} (default), vonage, plivo, telnyx, infobip, sinch, bandwidth, messagebird, whatsapp, generic
  --account ID     the account id (required)
  --secret S       what the account stored with PUT /v1/providers/{provider} (required)
  --text T         the message text (default STOP)
  --from N, --to N the end user's number and your number (defaults +14155550100, +14155550199)
  --id ID          the provider's message id (default: a new one; repeat one to test replays)
  --base URL       the edge (default $EDGE_URL or http://127.0.0.1:$EDGE_PORT|8787)
  --algorithm A    Vonage signature method: sha1, sha256, sha512
  --button B       whatsapp: a quick-reply button tap with this payload (e.g. 'Stop promotions')
  --status S       whatsapp: a status (sent, delivered, read, failed) of the message --id to --from
  --forge          sign with a wrong secret (expect 401)
  --stale          sign with a timestamp 10 minutes old (expect 401 where the scheme has one)
  --telnyx-keys    print a new Ed25519 key pair for Telnyx and exit
  --quiet          print only the status
`;

let parsed;
try {
  parsed = parseArgs({
    options: {
      help: { type: "boolean", short: "h", default: false },
      provider: { type: "string", default: "twilio" },
      account: { type: "string" },
      secret: { type: "string" },
      algorithm: { type: "string" },
      from: { type: "string", default: "+14155550100" },
      to: { type: "string", default: "+14155550199" },
      text: { type: "string", default: "STOP" },
      id: { type: "string" },
      button: { type: "string" },
      status: { type: "string" },
      base: {
        type: "string",
        default: process.env.EDGE_URL ?? `http://127.0.0.1:${process.env.EDGE_PORT ?? "8787"}`,
      },
      forge: { type: "boolean", default: false },
      stale: { type: "boolean", default: false },
      "telnyx-keys": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
    },
  });
} catch (err) {
  console.error(`send-mo: ${err.message}\n\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

if (values["telnyx-keys"]) {
  const { publicKey, privateKeyPkcs8 } = await telnyxKeyPair();
  console.log(JSON.stringify({ publicKey, privateKey: privateKeyPkcs8 }, null, 2));
  console.log("# store publicKey with PUT /v1/providers/telnyx; sign with --secret <privateKey>");
  process.exit(0);
}

const fail = (message) => {
  console.error(`send-mo: ${message}`);
  process.exit(2);
};
if (!ALL_PROVIDERS.includes(values.provider)) fail(`--provider must be one of ${ALL_PROVIDERS.join(", ")}`);
if ((values.button || values.status) && values.provider !== "whatsapp")
  fail("--button and --status are whatsapp's");
if (!values.account) fail("--account acc_... is required");
if (!values.secret) fail("--secret is required (what the account stored for the provider)");

let secret = values.secret;
if (values.forge) {
  secret = values.provider === "telnyx" ? (await telnyxKeyPair()).privateKey : `${values.secret}-forged`;
}

const url = `${values.base.replace(/\/+$/, "")}/mo/${values.provider}/${values.account}`;
const message = {
  id: values.id ?? `MO${Date.now()}${Math.floor(Math.random() * 1e6)}`,
  from: values.from,
  to: values.to,
  text: values.text,
};
const { body, contentType } =
  values.provider !== "whatsapp"
    ? inboundPayload(values.provider, message)
    : values.status
      ? whatsappPayload({
          to: values.to,
          statuses: [{ id: message.id, recipient: values.from, status: values.status }],
        })
      : whatsappPayload({
          to: values.to,
          messages: [{ ...message, ...(values.button ? { button: values.button } : {}) }],
        });
const signed = await signWebhook(values.provider, {
  url,
  body,
  contentType,
  secret,
  algorithm: values.algorithm,
  timestamp: values.stale ? Math.floor(Date.now() / 1000) - 600 : undefined,
});

const started = performance.now();
const res = await fetch(signed.url, { method: "POST", headers: signed.headers, body: signed.body });
const text = await res.text();
if (!values.quiet) {
  console.log(
    `${res.status} ${res.headers.get("content-type") ?? ""} (${(performance.now() - started).toFixed(0)} ms, message id ${message.id})`,
  );
  if (text) console.log(text);
}
process.exit(res.ok ? 0 : 1);
