import type { KeywordPack } from "./types.ts";

/**
 * Portuguese.
 * Sources: Brazilian SMS practice (SAIR and PARAR are the customary opt-out replies; the LGPD
 * requires honouring the objection) and providers' Portuguese keyword lists (CANCELAR,
 * DESCADASTRAR); AJUDA for help.
 */
export const pt: KeywordPack = {
  language: "pt",
  name: "Portuguese",
  optOut: ["SAIR", "PARAR", "PARE", "CANCELAR", "DESCADASTRAR", "DESCADASTRE", "REMOVER", "STOP"],
  optIn: ["START", "INICIAR", "REATIVAR", "VOLTAR"],
  help: ["AJUDA", "INFO"],
  revocationPhrases: [
    "não quero mais receber mensagens",
    "não quero mais mensagens",
    "parem de me mandar mensagens",
    "parem de me enviar mensagens",
    "pare de me mandar mensagens",
    "chega de mensagens",
    "me tire da lista",
    "me tirem da lista",
    "me remova da lista",
    "quero sair",
    "quero sair da lista",
    "quero me descadastrar",
    "me descadastre",
  ],
  courtesy: ["por favor", "pfv", "obrigado", "obrigada", "já"],
  reviewExempt: ["pare", "sair", "remover"],
  confirmations: {
    optOut:
      "{brand}: Você foi descadastrado(a) e não receberá mais mensagens. Responda {start} para voltar a receber.",
    optIn: "{brand}: Você voltou a se cadastrar e receberá mensagens novamente. Responda {stop} para sair.",
    optInStillOptedOut:
      "{brand}: Você continua descadastrado(a) porque um cancelamento anterior ainda vale. Responda {help} para obter ajuda.",
    help: "{brand}: Para ajuda, fale com {support}. Responda {stop} para sair.",
    helpWithoutSupport: "{brand}: Responda {stop} para sair ou {start} para voltar a receber mensagens.",
  },
};
