import type { KeywordPack } from "./types.ts";

/**
 * French.
 * Sources: the French SMS+ code of conduct (AF2M) makes STOP the unsubscribe keyword for
 * French short codes; ARRET is the French keyword in AWS End User Messaging's required opt-out
 * list (Canada); DESABONNER/DESINSCRIRE are the common verbs in providers' French lists.
 */
export const fr: KeywordPack = {
  language: "fr",
  name: "French",
  optOut: [
    "STOP",
    "ARRET",
    "ARRETER",
    "ARRETEZ",
    "DESABONNER",
    "DESABONNEMENT",
    "DESINSCRIRE",
    "DESINSCRIPTION",
    "ANNULER",
    "FIN",
  ],
  optIn: ["START", "REPRENDRE", "ABONNER"],
  help: ["AIDE", "INFO"],
  revocationPhrases: [
    "arretez de m'écrire",
    "arretez de m'envoyer des messages",
    "arrêtez les messages",
    "arrêtez les sms",
    "je ne veux plus de messages",
    "je ne veux plus recevoir de messages",
    "plus de messages",
    "plus de sms",
    "désabonnez-moi",
    "désinscrivez-moi",
    "retirez-moi de la liste",
    "supprimez-moi de la liste",
    "supprimez mon numéro",
  ],
  courtesy: ["svp", "s'il vous plaît", "s'il te plaît", "stp", "merci"],
  reviewExempt: ["fin", "annuler"],
  confirmations: {
    optOut:
      "{brand} : Vous êtes désabonné(e) et ne recevrez plus de messages. Répondez {start} pour vous réabonner.",
    optIn:
      "{brand} : Vous êtes réabonné(e) et recevrez à nouveau nos messages. Répondez {stop} pour vous désabonner.",
    optInStillOptedOut:
      "{brand} : Vous restez désabonné(e) car une désinscription antérieure s'applique toujours. Répondez {help} pour obtenir de l'aide.",
    help: "{brand} : Pour toute aide, contactez {support}. Répondez {stop} pour vous désabonner.",
    helpWithoutSupport: "{brand} : Répondez {stop} pour vous désabonner ou {start} pour vous réabonner.",
  },
};
