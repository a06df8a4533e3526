import type { KeywordPack } from "./types.ts";

/**
 * Italian.
 * Sources: Italian SMS practice (STOP and ANNULLA/CANCELLA; the Garante privacy rules require
 * an easy objection to marketing) and providers' Italian keyword lists (DISISCRIVI); AIUTO for
 * help. "FINE" is deliberately absent: it is an everyday English word ("fine") and would opt out
 * English speakers who answer "Fine".
 */
export const it: KeywordPack = {
  language: "it",
  name: "Italian",
  optOut: ["STOP", "ANNULLA", "CANCELLA", "DISISCRIVI", "DISISCRIVIMI", "BASTA", "ESCI", "RIMUOVI"],
  optIn: ["START", "ISCRIVIMI", "RIATTIVA"],
  help: ["AIUTO", "INFO"],
  revocationPhrases: [
    "non voglio più ricevere messaggi",
    "non voglio più messaggi",
    "basta messaggi",
    "basta sms",
    "smettetela di scrivermi",
    "smettete di scrivermi",
    "smettete di inviarmi messaggi",
    "toglietemi dalla lista",
    "rimuovimi dalla lista",
    "cancellatemi",
    "cancellami",
    "cancellate il mio numero",
  ],
  courtesy: ["per favore", "per piacere", "grazie", "subito"],
  reviewExempt: ["esci", "basta"],
  confirmations: {
    optOut:
      "{brand}: Ti sei disiscritto e non riceverai più messaggi. Rispondi {start} per iscriverti di nuovo.",
    optIn:
      "{brand}: Ti sei iscritto di nuovo e riceverai di nuovo i messaggi. Rispondi {stop} per disiscriverti.",
    optInStillOptedOut:
      "{brand}: Resti disiscritto perché una disiscrizione precedente è ancora valida. Rispondi {help} per assistenza.",
    help: "{brand}: Per assistenza contatta {support}. Rispondi {stop} per disiscriverti.",
    helpWithoutSupport: "{brand}: Rispondi {stop} per disiscriverti o {start} per iscriverti di nuovo.",
  },
};
