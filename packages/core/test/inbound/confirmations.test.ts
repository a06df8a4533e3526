import { describe, expect, it } from "vitest";
import { confirmationText, KEYWORD_PACKS } from "../../src/index.ts";

const brand = "Acme";
const support = "support@acme.example";

describe("confirmationText", () => {
  it.each(KEYWORD_PACKS.map((p) => ({ language: p.language, stop: p.optOut[0]!, start: p.optIn[0]! })))(
    "$language: opt-out names the brand and how to resubscribe; help names support and how to opt out",
    ({ language, stop, start }) => {
      const out = confirmationText({ action: "opt_out", language, brand });
      expect(out).toContain(brand);
      expect(out).toContain(start);
      const help = confirmationText({ action: "help", language, brand, support });
      expect(help).toContain(brand);
      expect(help).toContain(support);
      expect(help).toContain(stop);
      const resubscribed = confirmationText({ action: "opt_in", language, brand });
      expect(resubscribed).toContain(brand);
      expect(resubscribed).toContain(stop);
    },
  );

  it.each(
    KEYWORD_PACKS.map((p) => ({ language: p.language, help: p.help[0]!, optIn: p.confirmations.optIn })),
  )(
    "$language: an opt-in that leaves the address opted out says so, whatever the rule's reply",
    ({ language, help, optIn }) => {
      const rule = { replies: { [language]: "{brand}: welcome back" } };
      const text = confirmationText({ action: "opt_in", language, brand, rule, stillOptedOut: true });
      expect(text).toContain(brand);
      expect(text).toContain(help);
      expect(text).not.toContain("welcome back");
      expect(text).not.toBe(optIn.replace("{brand}", brand));
    },
  );

  it("writes the English texts", () => {
    expect(confirmationText({ action: "opt_out", brand })).toBe(
      "Acme: You are unsubscribed and will receive no more messages from us. Reply START to resubscribe.",
    );
    expect(confirmationText({ action: "opt_in", language: "en", brand })).toBe(
      "Acme: You are resubscribed and will receive messages again. Reply STOP to unsubscribe.",
    );
    expect(confirmationText({ action: "help", language: "en", brand, support })).toBe(
      "Acme: For help, contact support@acme.example. Reply STOP to unsubscribe. Msg & data rates may apply.",
    );
    expect(confirmationText({ action: "help", language: "en", brand })).toBe(
      "Acme: Reply STOP to unsubscribe, START to resubscribe. Msg & data rates may apply.",
    );
    expect(confirmationText({ action: "opt_in", language: "en", brand, stillOptedOut: true })).toBe(
      "Acme: You remain unsubscribed because an earlier opt-out still applies. Reply HELP for help.",
    );
  });

  it("answers Spanish in Spanish with its own keywords, also for regional tags", () => {
    expect(confirmationText({ action: "opt_out", language: "es-MX", brand })).toBe(
      "Acme: Te has dado de baja y no recibirás más mensajes. Responde ALTA para volver a suscribirte.",
    );
  });

  it("falls back to English for a language without a pack", () => {
    expect(confirmationText({ action: "opt_out", language: "nl", brand })).toContain("You are unsubscribed");
  });

  it("prefers the rule's own reply for the language, with placeholders", () => {
    const rule = { replies: { fr: "{brand} : c'est noté, plus de SMS. {start} pour revenir." } };
    expect(confirmationText({ action: "opt_out", language: "fr-CA", brand, rule })).toBe(
      "Acme : c'est noté, plus de SMS. START pour revenir.",
    );
    expect(confirmationText({ action: "opt_out", language: "en", brand, rule })).toContain(
      "You are unsubscribed",
    );
  });

  it("keeps control characters out of the text", () => {
    expect(confirmationText({ action: "opt_out", brand: "Ac\u0000me\n", language: "en" })).toMatch(
      /^Ac me: /,
    );
  });
});
