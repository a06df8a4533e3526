import { en } from "./keyword-packs/en.ts";
import { keywordPack } from "./keyword-packs/index.ts";
import type { KeywordPack } from "./keyword-packs/types.ts";
import type { KeywordAction, KeywordRule } from "./keyword-rule.ts";

export interface ConfirmationInput {
  action: KeywordAction;
  /** The matched rule's language (`classification.language`); unknown languages fall back to English. */
  language?: string;
  /** The account's brand name, as end users know it. */
  brand: string;
  /** How to reach support: a phone number, URL or email. Shown in help replies. */
  support?: string;
  /** The matched rule: its `replies` override the default text for the language. */
  rule?: Pick<KeywordRule, "replies">;
  /**
   * Opt-in only: the address is still blocked after it (an account-level or every-channel
   * opt-out the keyword did not lift). The reply says so; a rule's own reply does not apply.
   */
  stillOptedOut?: boolean;
}

// Control characters would end up in an SMS body; brand and support are account-supplied.
const CONTROL = /\p{Cc}/gu;

function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(brand|support|stop|start|help)\}/g, (_, name: string) => vars[name] ?? "");
}

function ruleReply(rule: ConfirmationInput["rule"], language: string): string | undefined {
  if (!rule) return undefined;
  return rule.replies[language] ?? rule.replies[language.toLowerCase().split("-")[0]!];
}

/**
 * The one confirmation text sent for a keyword, in the keyword's language. Opt-out: the brand,
 * that no more messages will be sent, and how to resubscribe. Opt-in: resubscribed. Help: the
 * brand, the support contact and how to opt out. A rule's own reply for the language wins, except
 * for an opt-in that left the address opted out (`stillOptedOut`), which always says so.
 */
export function confirmationText(input: ConfirmationInput): string {
  const language = input.language ?? "en";
  const pack: KeywordPack = keywordPack(language) ?? en;
  const vars = {
    brand: input.brand.replace(CONTROL, " ").trim(),
    support: (input.support ?? "").replace(CONTROL, " ").trim(),
    stop: pack.optOut[0] ?? "STOP",
    start: pack.optIn[0] ?? "START",
    help: pack.help[0] ?? "HELP",
  };
  if (input.action === "opt_in" && input.stillOptedOut)
    return fill(pack.confirmations.optInStillOptedOut, vars);
  const custom = ruleReply(input.rule, language);
  if (custom) return fill(custom, vars);
  switch (input.action) {
    case "opt_out":
      return fill(pack.confirmations.optOut, vars);
    case "opt_in":
      return fill(pack.confirmations.optIn, vars);
    case "help":
      return fill(vars.support ? pack.confirmations.help : pack.confirmations.helpWithoutSupport, vars);
  }
}
