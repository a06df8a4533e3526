import type { KeywordPack } from "./types.ts";

/**
 * Spanish.
 * Sources: keywords used by Latin American and Spanish carriers and by providers' Spanish
 * opt-out lists (BAJA, ALTO, PARAR, CANCELAR; ALTA to resubscribe; AYUDA), and the FCC's "any
 * reasonable means" standard, under which US compliance guidance cites Spanish replies such as
 * "no más" as revocations (FCC 24-24; CompliancePoint analysis of 47 CFR 64.1200(a)(10)).
 */
export const es: KeywordPack = {
  language: "es",
  name: "Spanish",
  optOut: [
    "BAJA",
    "ALTO",
    "PARAR",
    "PARA",
    "DETENER",
    "CANCELAR",
    "DAR DE BAJA",
    "DARME DE BAJA",
    "DESUSCRIBIR",
    "DESUSCRIBIRME",
    "FIN",
    "NO MAS",
  ],
  optIn: ["ALTA", "INICIAR", "START"],
  help: ["AYUDA", "INFO"],
  revocationPhrases: [
    "por favor paren",
    "dejen de escribirme",
    "dejen de enviarme mensajes",
    "deja de enviarme mensajes",
    "no me envien mas mensajes",
    "no me manden mas mensajes",
    "no mas mensajes",
    "no quiero recibir mas mensajes",
    "no quiero mas mensajes",
    "quiero darme de baja",
    "denme de baja",
    "borrame de la lista",
    "sacame de la lista",
    "eliminenme de la lista",
    "eliminen mi numero",
  ],
  courtesy: ["por favor", "porfa", "gracias", "ya"],
  reviewExempt: ["para", "alto", "fin"],
  confirmations: {
    optOut:
      "{brand}: Te has dado de baja y no recibirás más mensajes. Responde {start} para volver a suscribirte.",
    optIn:
      "{brand}: Te has vuelto a suscribir y recibirás mensajes de nuevo. Responde {stop} para darte de baja.",
    optInStillOptedOut:
      "{brand}: Sigues dado de baja porque una baja anterior sigue vigente. Responde {help} para obtener ayuda.",
    help: "{brand}: Para ayuda, contacta con {support}. Responde {stop} para darte de baja.",
    helpWithoutSupport: "{brand}: Responde {stop} para darte de baja o {start} para volver a suscribirte.",
  },
};
