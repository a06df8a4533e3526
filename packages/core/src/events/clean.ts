import { cleanText } from "../storable-text.ts";
import type { ProviderEvent } from "./types.ts";

const cleanOrNull = (value: string | null): string | null => {
  const clean = value === null ? "" : cleanText(value);
  return clean.trim() === "" ? null : clean;
};

const blank = (value: string) => value.trim() === "";

/**
 * The event with every string cleaned for the ledger (see `cleanText`); null when a required part
 * is blank once cleaned (it names no one). Shared by `parseEvents` and `parseStatusCallbacks`.
 */
export function cleanedProviderEvent(e: ProviderEvent): ProviderEvent | null {
  if (e.kind === "message_event") {
    const event = {
      ...e.event,
      messageId: cleanText(e.event.messageId),
      address: cleanText(e.event.address),
      sender: cleanOrNull(e.event.sender),
      campaign: cleanOrNull(e.event.campaign),
      providerEventId: cleanText(e.event.providerEventId),
    };
    return blank(event.messageId) || blank(event.address) || blank(event.providerEventId)
      ? null
      : { kind: "message_event", event };
  }
  const optOut = {
    ...e,
    address: cleanText(e.address),
    providerEventId: cleanText(e.providerEventId),
    reason: cleanText(e.reason),
    messageId: cleanOrNull(e.messageId),
    // Email opt-outs carry no sender: the key stays absent rather than becoming null.
    ...(e.sender === undefined ? {} : { sender: cleanOrNull(e.sender) }),
  };
  return blank(optOut.address) || blank(optOut.providerEventId) ? null : optOut;
}
