import type { KeywordPack } from "./types.ts";

/**
 * German.
 * Sources: German-market SMS practice (STOP/STOPP, ABMELDEN, ABBESTELLEN; the UWG and DSGVO
 * require an easy way to object to advertising) and providers' German keyword lists;
 * START/ANMELDEN to resubscribe, HILFE for help.
 */
export const de: KeywordPack = {
  language: "de",
  name: "German",
  optOut: ["STOP", "STOPP", "ABMELDEN", "ABBESTELLEN", "AUSTRAGEN", "BEENDEN", "KÜNDIGEN", "ENDE"],
  optIn: ["START", "ANMELDEN", "STARTEN"],
  help: ["HILFE", "INFO"],
  revocationPhrases: [
    "bitte abmelden",
    "bitte austragen",
    "keine sms mehr",
    "keine nachrichten mehr",
    "bitte keine sms mehr",
    "bitte keine nachrichten mehr",
    "hören sie auf mir zu schreiben",
    "hört auf mir zu schreiben",
    "ich will keine nachrichten mehr",
    "ich möchte keine nachrichten mehr",
    "nehmen sie mich aus der liste",
    "löschen sie meine nummer",
  ],
  courtesy: ["bitte", "danke", "sofort"],
  reviewExempt: ["ende"],
  confirmations: {
    optOut:
      "{brand}: Sie sind abgemeldet und erhalten keine Nachrichten mehr. Antworten Sie {start}, um sich wieder anzumelden.",
    optIn:
      "{brand}: Sie sind wieder angemeldet und erhalten wieder Nachrichten. Antworten Sie {stop}, um sich abzumelden.",
    optInStillOptedOut:
      "{brand}: Sie bleiben abgemeldet, weil eine frühere Abmeldung weiterhin gilt. Antworten Sie {help}, um Hilfe zu erhalten.",
    help: "{brand}: Hilfe erhalten Sie unter {support}. Antworten Sie {stop}, um sich abzumelden.",
    helpWithoutSupport:
      "{brand}: Antworten Sie {stop}, um sich abzumelden, oder {start}, um sich wieder anzumelden.",
  },
};
