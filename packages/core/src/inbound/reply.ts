import type { InboundMessage, InboundProvider } from "./types.ts";

export interface ReplyItem {
  /** The inbound message being answered: the reply goes from its `to` back to its `from`. */
  message: Pick<InboundMessage, "from" | "to">;
  text: string;
}

export interface ProviderReply {
  status: number;
  /** Null when the body is empty. */
  contentType: string | null;
  body: string;
  /**
   * True when the response body itself delivers the replies (TwiML, Plivo XML, generic JSON).
   * False for providers with no inline reply format: the edge answers 2xx with an empty body and
   * must send any confirmation through the provider's messaging API instead.
   */
  inline: boolean;
}

// XML 1.0's Char production. Anything else (C0 controls but tab/LF/CR, unpaired surrogates,
// U+FFFE/U+FFFF) is dropped rather than escaped: no escape makes it valid XML.
function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

function dropInvalidXml(text: string): string {
  let out = "";
  // for..of walks code points; an unpaired surrogate comes out alone and fails isXmlChar.
  for (const ch of text) if (isXmlChar(ch.codePointAt(0)!)) out += ch;
  return out;
}

/** Escapes text for XML element content and attribute values. */
export function escapeXml(text: string): string {
  return dropInvalidXml(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** Plivo XML wants bare digits for numbers; alphanumeric senders pass through. */
function plivoNumber(address: string): string {
  return address.replace(/^\+(?=\d+$)/, "");
}

/**
 * The HTTP answer to a provider's webhook, in the provider's own format: TwiML
 * `<Response><Message>` for Twilio, Plivo XML `<Response><Message src dst>` for Plivo, our JSON
 * `{ replies: [...] }` for `generic`, and an empty 200 for everyone else (their replies go out
 * through their APIs). With no replies it is still a valid, empty answer in the right format.
 */
export function buildProviderReply(
  provider: InboundProvider,
  replies: readonly ReplyItem[] = [],
): ProviderReply {
  switch (provider) {
    case "twilio": {
      const messages = replies.map((r) => `<Message>${escapeXml(r.text)}</Message>`).join("");
      return {
        status: 200,
        contentType: "text/xml; charset=utf-8",
        body: `${XML_DECLARATION}<Response>${messages}</Response>`,
        inline: replies.length > 0,
      };
    }
    case "plivo": {
      const messages = replies
        .map(
          (r) =>
            `<Message src="${escapeXml(plivoNumber(r.message.to))}" dst="${escapeXml(plivoNumber(r.message.from))}" type="sms">${escapeXml(r.text)}</Message>`,
        )
        .join("");
      return {
        status: 200,
        contentType: "application/xml; charset=utf-8",
        body: `${XML_DECLARATION}<Response>${messages}</Response>`,
        inline: replies.length > 0,
      };
    }
    case "generic":
      return {
        status: 200,
        contentType: "application/json; charset=utf-8",
        body: JSON.stringify({
          replies: replies.map((r) => ({ to: r.message.from, from: r.message.to, text: r.text })),
        }),
        inline: replies.length > 0,
      };
    case "vonage":
    case "telnyx":
    case "infobip":
    case "sinch":
    case "bandwidth":
    case "messagebird":
    case "whatsapp":
      return { status: 200, contentType: null, body: "", inline: false };
  }
}
