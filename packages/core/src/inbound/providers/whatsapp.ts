/**
 * WhatsApp Business Platform (Meta's Cloud API).
 *
 * Signature (Meta's "Webhooks" guide, "Event notifications" → validating payloads; checked against
 * the published vector in david-lev/pywa `tests/test_server.py`): `X-Hub-Signature-256` =
 * `sha256=` + hex HMAC-SHA256 of the raw body under the app secret. Meta signs no timestamp, so
 * there is no replay window: a redelivery is recognised by its message id (`wamid.…`).
 * The GET subscription check is `whatsappHandshake`.
 *
 * Payload (Meta's "messages webhook reference": text, button and interactive messages):
 * `{ object: "whatsapp_business_account", entry: [{ id, changes: [{ field: "messages", value:
 * { metadata: { display_phone_number, phone_number_id }, contacts: [{ wa_id }], messages: [{ from,
 * id, timestamp, type, text | button | interactive }] } }] }] }`. Numbers are digits without "+".
 * A quick-reply button (`button`: `{ payload, text }`) and an interactive reply button
 * (`interactive.button_reply`: `{ id, title }`) are read as their label, except that a payload or
 * label listed in `stopPayloads` (default: Meta's marketing opt-out button, "Stop promotions") is
 * read as `STOP`. Statuses in the same webhook are read by `parseStatusCallbacks`.
 */
import { z } from "zod";
import { DomainError } from "../../errors.ts";
import { parseJson, toInstant, validate } from "../payload.ts";
import { fail, header, ok, type VerifyResult, type WebhookRequest } from "../request.ts";
import { hex, hmac, matchesAny } from "../signing.ts";
import type { InboundMessage, ParseContext, ProviderAdapter } from "../types.ts";

export const WHATSAPP_SIGNATURE_HEADER = "X-Hub-Signature-256";

/**
 * The label of the "Marketing opt-out" quick-reply button Meta offers on marketing templates; it
 * comes back as the button's payload and text unless the business set another payload.
 */
export const WHATSAPP_DEFAULT_STOP_PAYLOADS: readonly string[] = ["Stop promotions"];

/** The text a stop button is read as: a keyword every default keyword pack opts out on. */
const STOP_TEXT = "STOP";

async function verify(request: WebhookRequest, secret: string): Promise<VerifyResult> {
  const raw = header(request, WHATSAPP_SIGNATURE_HEADER);
  if (!raw) return fail(`missing ${WHATSAPP_SIGNATURE_HEADER} header`);
  const m = /^sha256=([0-9a-f]{64})$/i.exec(raw.trim());
  if (!m) return fail(`${WHATSAPP_SIGNATURE_HEADER} is not sha256=<hex>`);
  const expected = hex(await hmac("SHA-256", secret, request.body));
  return matchesAny(m[1]!.toLowerCase(), [expected])
    ? ok()
    : fail(`${WHATSAPP_SIGNATURE_HEADER} does not match`);
}

/**
 * A WhatsApp number as E.164: Meta sends user ids (`wa_id`, `from`, `recipient_id`) as digits and
 * the business's `display_phone_number` as digits or formatted (`+1 555-555-0100`).
 */
export function whatsappNumber(raw: string): string {
  const compact = raw.trim().replace(/[\s().-]/g, "");
  if (/^\+?\d{1,15}$/.test(compact)) return compact.startsWith("+") ? compact : `+${compact}`;
  return raw.trim();
}

const Envelope = z.object({
  object: z.string(),
  entry: z.array(
    z.object({
      id: z.string().optional(),
      changes: z.array(z.object({ field: z.string(), value: z.unknown() })),
    }),
  ),
});

export const WhatsAppMetadata = z.object({
  display_phone_number: z.string().min(1),
  phone_number_id: z.string().optional(),
});

export interface WhatsAppChange {
  field: string;
  value: unknown;
  /** Where the change sits in the body, for error messages: `entry[0].changes[1]`. */
  path: string;
}

/**
 * The changes of a WhatsApp Business Account webhook, in order; `[]` for another object's
 * webhook (Meta's app webhooks also carry `page`, `instagram`, …). Throws
 * `DomainError("invalid_input")` for a body that is not such an envelope.
 */
export function whatsappChanges(body: string): WhatsAppChange[] {
  const envelope = validate(Envelope, parseJson(body, "whatsapp"), "whatsapp", "webhook body");
  if (envelope.object !== "whatsapp_business_account") return [];
  return envelope.entry.flatMap((entry, i) =>
    entry.changes.map((change, j) => ({
      field: change.field,
      value: change.value,
      path: `entry[${i}].changes[${j}]`,
    })),
  );
}

const MessagesValue = z.object({
  metadata: WhatsAppMetadata,
  contacts: z.array(z.object({ wa_id: z.string().optional() }).loose()).optional(),
  messages: z.array(z.object({ type: z.string() }).loose()).optional(),
});

const MessageBase = z.object({
  id: z.string().min(1),
  from: z.string().min(1).optional(),
  timestamp: z.string().optional(),
  type: z.string(),
});
const TextMessage = MessageBase.extend({ text: z.object({ body: z.string() }) });
const ButtonMessage = MessageBase.extend({
  button: z.object({ payload: z.string().nullable().optional(), text: z.string().nullable().optional() }),
});
const InteractiveMessage = MessageBase.extend({
  interactive: z.object({
    type: z.string(),
    button_reply: z.object({ id: z.string().optional(), title: z.string().optional() }).optional(),
  }),
});

function isStop(stops: ReadonlySet<string>, ...values: Array<string | null | undefined>): boolean {
  return values.some((v) => typeof v === "string" && stops.has(v.trim().toLowerCase()));
}

/** A tapped button as text: its label (what the person saw), or `STOP` for a stop button. */
function buttonText(
  stops: ReadonlySet<string>,
  payload: string | null | undefined,
  label: string | null | undefined,
): string {
  if (isStop(stops, payload, label)) return STOP_TEXT;
  return label ?? payload ?? "";
}

function parse(request: WebhookRequest, context: ParseContext): InboundMessage[] {
  const stops = new Set(
    (context.options.stopPayloads ?? WHATSAPP_DEFAULT_STOP_PAYLOADS).map((p) => p.trim().toLowerCase()),
  );
  const out: InboundMessage[] = [];
  for (const change of whatsappChanges(request.body)) {
    if (change.field !== "messages") continue;
    const value = validate(MessagesValue, change.value, "whatsapp", `${change.path}.value`);
    const contacts = value.contacts ?? [];
    for (const [k, raw] of (value.messages ?? []).entries()) {
      const where = `${change.path}.value.messages[${k}]`;
      let text: string;
      let base: z.infer<typeof MessageBase>;
      switch (raw.type) {
        case "text": {
          const m = validate(TextMessage, raw, "whatsapp", where);
          text = m.text.body;
          base = m;
          break;
        }
        case "button": {
          const m = validate(ButtonMessage, raw, "whatsapp", where);
          text = buttonText(stops, m.button.payload, m.button.text);
          base = m;
          break;
        }
        case "interactive": {
          const m = validate(InteractiveMessage, raw, "whatsapp", where);
          const reply = m.interactive.button_reply;
          // List replies, flows and other interactive answers are not keyword candidates.
          if (m.interactive.type !== "button_reply" || !reply) continue;
          text = buttonText(stops, reply.id, reply.title);
          base = m;
          break;
        }
        default:
          // Media, reactions, locations, system messages, …: no text to classify.
          continue;
      }
      // `from` is documented as always present; a lone contact's wa_id is the same person.
      const from = base.from ?? (contacts.length === 1 ? contacts[0]!.wa_id : undefined);
      if (!from) throw new DomainError("invalid_input", `whatsapp ${where} names no sender (from)`);
      out.push({
        provider: "whatsapp",
        providerMessageId: base.id,
        from: whatsappNumber(from),
        to: whatsappNumber(value.metadata.display_phone_number),
        text,
        receivedAt: toInstant(base.timestamp, context.now),
      });
    }
  }
  return out;
}

export const whatsapp: ProviderAdapter = { verify, parse };
