/**
 * A default keyword pack: one language's opt-out, opt-in and help keywords, the short
 * revocation phrases that also opt out, courtesy words that may surround a keyword, and the
 * confirmation texts. Keywords and phrases are written naturally; matching normalizes both
 * sides with `normalizeText`, so case, accents and punctuation here do not matter.
 */
export interface KeywordPack {
  /** BCP 47 primary language subtag. */
  language: string;
  /** English name of the language, for listings. */
  name: string;
  /** The whole message equal to one of these opts out. The first is named in confirmations. */
  optOut: readonly string[];
  /** The whole message equal to one of these opts back in. The first is named in confirmations. */
  optIn: readonly string[];
  /** The whole message equal to one of these asks for help. */
  help: readonly string[];
  /** Whole-message revocation phrases ("please stop texting me"): opt out too. */
  revocationPhrases: readonly string[];
  /** Words that may precede or follow a keyword without changing it ("STOP please"). */
  courtesy: readonly string[];
  /**
   * Opt-out keywords that are ordinary words in running text ("para" in Spanish), so a longer
   * message merely containing them is not flagged for review.
   */
  reviewExempt: readonly string[];
  /**
   * Confirmation templates. Placeholders: {brand}, {support}, {stop}, {start}, {help}.
   * Opt-out: brand, no more messages, how to resubscribe. Opt-in: resubscribed.
   * Help: brand, support contact, how to opt out.
   */
  confirmations: {
    optOut: string;
    optIn: string;
    /**
     * Opt-in that leaves the end user blocked all the same (an account-level or every-channel
     * opt-out still applies): says so instead of claiming a resubscription. Brand and {help}.
     */
    optInStillOptedOut: string;
    help: string;
    /** Help when the account has no support contact configured. */
    helpWithoutSupport: string;
  };
}
