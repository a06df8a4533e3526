import { describe, expect, it } from "vitest";
import { buildProviderReply, escapeXml, InboundProvider } from "../../src/index.ts";

const MESSAGE = { from: "+14155550100", to: "+14155550199" };

describe("escapeXml", () => {
  it("escapes markup and drops characters XML cannot carry", () => {
    expect(escapeXml(`Tom & Jerry's <b>"deal"</b>`)).toBe(
      "Tom &amp; Jerry&apos;s &lt;b&gt;&quot;deal&quot;&lt;/b&gt;",
    );
    expect(escapeXml("a\u0000b\u0007c\td\ne\uFFFEf\uD800g😀")).toBe("abc\td\nefg😀");
  });
});

describe("buildProviderReply", () => {
  it("answers Twilio with TwiML <Response><Message>", () => {
    const r = buildProviderReply("twilio", [
      { message: MESSAGE, text: "Acme: You're unsubscribed. Reply START <to resubscribe> & more" },
    ]);
    expect(r).toEqual({
      status: 200,
      contentType: "text/xml; charset=utf-8",
      body: '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Acme: You&apos;re unsubscribed. Reply START &lt;to resubscribe&gt; &amp; more</Message></Response>',
      inline: true,
    });
  });

  it("answers Twilio with empty TwiML when there is nothing to say", () => {
    expect(buildProviderReply("twilio")).toMatchObject({
      body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
      inline: false,
    });
  });

  it("answers Plivo with Plivo XML from our number back to the end user", () => {
    const r = buildProviderReply("plivo", [{ message: MESSAGE, text: "Bye <3" }]);
    expect(r.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Message src="14155550199" dst="14155550100" type="sms">Bye &lt;3</Message></Response>',
    );
    expect(r.contentType).toBe("application/xml; charset=utf-8");
  });

  it("escapes attribute values too", () => {
    const r = buildProviderReply("plivo", [{ message: { from: '"><x', to: "Acme&Co" }, text: "hi" }]);
    expect(r.body).toContain('src="Acme&amp;Co" dst="&quot;&gt;&lt;x"');
  });

  it("answers generic with JSON replies", () => {
    const r = buildProviderReply("generic", [{ message: MESSAGE, text: "ok" }]);
    expect(JSON.parse(r.body)).toEqual({
      replies: [{ to: "+14155550100", from: "+14155550199", text: "ok" }],
    });
  });

  it.each(InboundProvider.options.filter((p) => !["twilio", "plivo", "generic"].includes(p)))(
    "answers %s with an empty 200 (replies go out through its API)",
    (provider) => {
      expect(buildProviderReply(provider, [{ message: MESSAGE, text: "x" }])).toEqual({
        status: 200,
        contentType: null,
        body: "",
        inline: false,
      });
    },
  );
});
