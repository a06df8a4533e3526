/**
 * Postmark webhooks.
 *
 * Authentication: Postmark signs nothing. A webhook URL may carry HTTP Basic credentials
 * (`https://user:password@…`, Postmark's "Webhooks overview"), which Postmark sends in an
 * `Authorization` header; the configured secret is that `user:password`, compared in constant
 * time (`verifyBasicAuth`). There is no timestamp, hence no replay window.
 *
 * Payload (Postmark's webhook docs and ActiveCampaign/postmark.js
 * `src/client/models/webhooks/payload/*.ts`): one JSON object per request, by `RecordType`:
 * Delivery, Bounce (`Type` HardBounce, SoftBounce, Transient, …), SpamComplaint, Open, Click,
 * SubscriptionChange (`SuppressSending` true when an address is added to the stream's
 * suppression list). `Metadata` holds the message's metadata.
 */
import { z } from "zod";
import { verifyBasicAuth } from "../../inbound/basic-auth.ts";
import type { VerifyResult, WebhookRequest } from "../../inbound/request.ts";
import { messageEvent, occurredAt, optOut, parseJson, present, userIds, validate } from "../payload.ts";
import type { EventAdapter, EventParseContext, ProviderEvent } from "../types.ts";

async function verify(request: WebhookRequest, secret: string): Promise<VerifyResult> {
  return verifyBasicAuth(request, secret);
}

const Kind = z.object({ RecordType: z.string().optional() });

const Common = z.object({
  MessageID: z.string().nullable().optional(),
  Metadata: z.unknown().optional(),
});

const Delivery = Common.extend({ Recipient: z.string().min(1), DeliveredAt: z.string().optional() });
const Engagement = Common.extend({ Recipient: z.string().min(1), ReceivedAt: z.string().optional() });
const Bounce = Common.extend({
  ID: z.union([z.number(), z.string()]),
  Type: z.string(),
  Email: z.string().min(1),
  From: z.string().nullable().optional(),
  BouncedAt: z.string().optional(),
});
const SubscriptionChange = Common.extend({
  Recipient: z.string().min(1),
  ChangedAt: z.string().optional(),
  SuppressSending: z.boolean(),
  SuppressionReason: z.string().nullable().optional(),
  Origin: z.string().nullable().optional(),
});

function parse(request: WebhookRequest, context: EventParseContext): ProviderEvent[] {
  const json = parseJson(request.body, "postmark");
  const kind = validate(Kind, json, "postmark", "webhook body").RecordType;
  const ids = (raw: z.infer<typeof Common>) => {
    const user = userIds(raw.Metadata);
    return { messageId: user.messageId ?? present(raw.MessageID), campaign: user.campaign };
  };
  switch (kind) {
    case "Delivery": {
      const e = validate(Delivery, json, "postmark", "Delivery webhook");
      // Postmark gives deliveries, opens and clicks no id of their own.
      return messageEvent({
        ...ids(e),
        type: "delivered",
        address: e.Recipient,
        sender: null,
        occurredAt: occurredAt(e.DeliveredAt, context.now),
        providerEventId: `Delivery:${e.MessageID ?? "-"}:${e.Recipient}`,
      });
    }
    case "Open":
    case "Click": {
      const e = validate(Engagement, json, "postmark", `${kind} webhook`);
      return messageEvent({
        ...ids(e),
        type: kind === "Open" ? "opened" : "clicked",
        address: e.Recipient,
        sender: null,
        occurredAt: occurredAt(e.ReceivedAt, context.now),
        providerEventId: `${kind}:${e.MessageID ?? "-"}:${e.Recipient}:${e.ReceivedAt ?? ""}`,
      });
    }
    case "Bounce":
    case "SpamComplaint": {
      const e = validate(Bounce, json, "postmark", `${kind} webhook`);
      // Only HardBounce is permanent; SoftBounce, Transient, DnsError, AutoResponder… are not.
      if (kind === "Bounce" && e.Type !== "HardBounce") return [];
      return messageEvent({
        ...ids(e),
        type: kind === "Bounce" ? "bounced" : "complained",
        address: e.Email,
        sender: present(e.From),
        occurredAt: occurredAt(e.BouncedAt, context.now),
        providerEventId: `${kind}:${e.ID}`,
      });
    }
    case "SubscriptionChange": {
      const e = validate(SubscriptionChange, json, "postmark", "SubscriptionChange webhook");
      // A reactivation (SuppressSending false) is never read as consent: only an opt-out through
      // optout itself can be undone.
      if (!e.SuppressSending) return [];
      const why = [present(e.SuppressionReason), present(e.Origin) && `by ${e.Origin}`].filter(Boolean);
      return optOut({
        address: e.Recipient,
        occurredAt: occurredAt(e.ChangedAt, context.now),
        providerEventId: `SubscriptionChange:${e.MessageID ?? "-"}:${e.Recipient}:${e.ChangedAt ?? ""}`,
        reason: `postmark suppression${why.length > 0 ? ` (${why.join(" ")})` : ""}`,
        messageId: ids(e).messageId,
      });
    }
    default:
      return [];
  }
}

export const postmark: EventAdapter = { verify, parse };
