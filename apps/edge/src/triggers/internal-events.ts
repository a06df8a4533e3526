import { canonicalInstant, type TriggerEvent } from "@optout/core";
import type { LinkView } from "../links/store.ts";

/**
 * A confirmed opt-out link (`POST /u/{code}`) as a message event: `clicked`, origin `link`, which
 * fires `link_click` rules and, like any click, cancels the message's not_opened deadlines. A link
 * minted without a message id gets one of its own (`link:<code hash>`), so replays stay one event.
 */
export function linkClickEvent(
  link: Pick<LinkView, "codeHash" | "address" | "channel" | "sender" | "campaign" | "messageId">,
  at: Date,
): TriggerEvent {
  return {
    type: "clicked",
    origin: "link",
    messageId: link.messageId ?? `link:${link.codeHash}`,
    address: link.address,
    sender: link.sender,
    channel: link.channel,
    occurredAt: canonicalInstant(at),
    campaign: link.campaign,
  };
}
