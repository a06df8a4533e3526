import type { Channel, PageLocale } from "@optout/core";

/**
 * Every word the unsubscribe page shows, per language. Sentences avoid splicing words into
 * grammar (articles, gender, cases differ per language): values the page fills in — brand,
 * sender, address, channel — stand in labelled rows or after a colon-like label instead.
 */
export interface PageMessages {
  channel: Record<Channel, string>;
  sentTo: string;
  messages: string;
  from: string;
  fromAccount: (brand: string) => string;
  fromSender: (sender: string) => string;
  confirmHeading: (brand: string) => string;
  confirmBody: string;
  confirmButton: string;
  doneHeading: string;
  doneBody: string;
  undoHint: string;
  undoButton: string;
  undoneHeading: string;
  undoneBody: string;
  undoClosedHeading: string;
  undoClosedBody: string;
  notFoundHeading: string;
  notFoundBody: string;
  goneHeading: string;
  goneBody: string;
  rateLimitedHeading: string;
  rateLimitedBody: string;
  errorHeading: string;
  errorBody: string;
}

export const MESSAGES: Record<PageLocale, PageMessages> = {
  en: {
    channel: {
      sms: "Text messages (SMS)",
      whatsapp: "WhatsApp",
      email: "Email",
      voice: "Calls",
      "*": "All channels",
    },
    sentTo: "Sent to",
    messages: "Messages",
    from: "From",
    fromAccount: (brand) => `${brand} (all senders)`,
    fromSender: (sender) => `Only ${sender}`,
    confirmHeading: (brand) => `Unsubscribe from ${brand}?`,
    confirmBody: "Press the button to stop these messages. Nothing changes until you do.",
    confirmButton: "Unsubscribe",
    doneHeading: "You’re unsubscribed",
    doneBody: "You will no longer receive these messages.",
    undoHint: "Unsubscribed by mistake? You can undo this within the next hour.",
    undoButton: "Resubscribe",
    undoneHeading: "You’re subscribed again",
    undoneBody: "You may receive these messages again. To stop them, open the link again.",
    undoClosedHeading: "This can no longer be undone",
    undoClosedBody:
      "More than 24 hours have passed since you unsubscribed, so you remain unsubscribed. Contact the sender to subscribe again.",
    notFoundHeading: "This link doesn’t work",
    notFoundBody: "Check that you opened the whole link from the message. Nothing has been changed.",
    goneHeading: "This link has expired",
    goneBody: "Nothing has been changed. Use the unsubscribe link in a more recent message.",
    rateLimitedHeading: "Too many attempts",
    rateLimitedBody: "Please wait a minute, then try again.",
    errorHeading: "Something went wrong",
    errorBody: "Nothing has been changed. Please try again in a moment.",
  },
  es: {
    channel: {
      sms: "Mensajes de texto (SMS)",
      whatsapp: "WhatsApp",
      email: "Correo electrónico",
      voice: "Llamadas",
      "*": "Todos los canales",
    },
    sentTo: "Enviados a",
    messages: "Mensajes",
    from: "De",
    fromAccount: (brand) => `${brand} (todos los remitentes)`,
    fromSender: (sender) => `Solo ${sender}`,
    confirmHeading: (brand) => `¿Darte de baja de ${brand}?`,
    confirmBody: "Pulsa el botón para dejar de recibir estos mensajes. No cambia nada hasta que lo hagas.",
    confirmButton: "Darme de baja",
    doneHeading: "Te has dado de baja",
    doneBody: "Ya no recibirás estos mensajes.",
    undoHint: "¿Te diste de baja por error? Puedes deshacerlo durante la próxima hora.",
    undoButton: "Volver a suscribirme",
    undoneHeading: "Te has vuelto a suscribir",
    undoneBody: "Puedes volver a recibir estos mensajes. Para detenerlos, abre el enlace de nuevo.",
    undoClosedHeading: "Ya no se puede deshacer",
    undoClosedBody:
      "Han pasado más de 24 horas desde que te diste de baja, así que sigues dado de baja. Contacta con el remitente para volver a suscribirte.",
    notFoundHeading: "Este enlace no funciona",
    notFoundBody: "Comprueba que abriste el enlace completo del mensaje. No se ha cambiado nada.",
    goneHeading: "Este enlace ha caducado",
    goneBody: "No se ha cambiado nada. Usa el enlace para darte de baja de un mensaje más reciente.",
    rateLimitedHeading: "Demasiados intentos",
    rateLimitedBody: "Espera un minuto y vuelve a intentarlo.",
    errorHeading: "Algo salió mal",
    errorBody: "No se ha cambiado nada. Vuelve a intentarlo en un momento.",
  },
  fr: {
    channel: { sms: "SMS", whatsapp: "WhatsApp", email: "E-mail", voice: "Appels", "*": "Tous les canaux" },
    sentTo: "Envoyés à",
    messages: "Messages",
    from: "De",
    fromAccount: (brand) => `${brand} (tous les expéditeurs)`,
    fromSender: (sender) => `Uniquement ${sender}`,
    confirmHeading: (brand) => `Se désabonner de ${brand} ?`,
    confirmBody:
      "Appuyez sur le bouton pour ne plus recevoir ces messages. Rien ne change tant que vous ne l’avez pas fait.",
    confirmButton: "Me désabonner",
    doneHeading: "Désabonnement confirmé",
    doneBody: "Vous ne recevrez plus ces messages.",
    undoHint: "Désabonné par erreur ? Vous pouvez annuler dans l’heure qui suit.",
    undoButton: "Me réabonner",
    undoneHeading: "Réabonnement confirmé",
    undoneBody: "Vous pouvez à nouveau recevoir ces messages. Pour les arrêter, ouvrez de nouveau le lien.",
    undoClosedHeading: "Il n’est plus possible d’annuler",
    undoClosedBody:
      "Plus de 24 heures se sont écoulées depuis votre désabonnement : vous restez désabonné. Contactez l’expéditeur pour vous réabonner.",
    notFoundHeading: "Ce lien ne fonctionne pas",
    notFoundBody: "Vérifiez que vous avez ouvert le lien complet du message. Rien n’a été modifié.",
    goneHeading: "Ce lien a expiré",
    goneBody: "Rien n’a été modifié. Utilisez le lien de désabonnement d’un message plus récent.",
    rateLimitedHeading: "Trop de tentatives",
    rateLimitedBody: "Patientez une minute, puis réessayez.",
    errorHeading: "Une erreur s’est produite",
    errorBody: "Rien n’a été modifié. Réessayez dans un instant.",
  },
  de: {
    channel: { sms: "SMS", whatsapp: "WhatsApp", email: "E-Mail", voice: "Anrufe", "*": "Alle Kanäle" },
    sentTo: "Gesendet an",
    messages: "Nachrichten",
    from: "Von",
    fromAccount: (brand) => `${brand} (alle Absender)`,
    fromSender: (sender) => `Nur ${sender}`,
    confirmHeading: (brand) => `Von ${brand} abmelden?`,
    confirmBody:
      "Tippen Sie auf die Schaltfläche, um diese Nachrichten abzubestellen. Bis dahin ändert sich nichts.",
    confirmButton: "Abmelden",
    doneHeading: "Sie sind abgemeldet",
    doneBody: "Sie erhalten diese Nachrichten nicht mehr.",
    undoHint: "Versehentlich abgemeldet? Sie können das innerhalb der nächsten Stunde rückgängig machen.",
    undoButton: "Wieder anmelden",
    undoneHeading: "Sie sind wieder angemeldet",
    undoneBody:
      "Sie können diese Nachrichten wieder erhalten. Um sie abzubestellen, öffnen Sie den Link erneut.",
    undoClosedHeading: "Das kann nicht mehr rückgängig gemacht werden",
    undoClosedBody:
      "Seit der Abmeldung sind mehr als 24 Stunden vergangen, Sie bleiben abgemeldet. Wenden Sie sich an den Absender, um sich wieder anzumelden.",
    notFoundHeading: "Dieser Link funktioniert nicht",
    notFoundBody:
      "Prüfen Sie, ob Sie den vollständigen Link aus der Nachricht geöffnet haben. Es wurde nichts geändert.",
    goneHeading: "Dieser Link ist abgelaufen",
    goneBody: "Es wurde nichts geändert. Verwenden Sie den Abmeldelink aus einer neueren Nachricht.",
    rateLimitedHeading: "Zu viele Versuche",
    rateLimitedBody: "Bitte warten Sie eine Minute und versuchen Sie es dann erneut.",
    errorHeading: "Etwas ist schiefgelaufen",
    errorBody: "Es wurde nichts geändert. Bitte versuchen Sie es gleich noch einmal.",
  },
  pt: {
    channel: {
      sms: "Mensagens de texto (SMS)",
      whatsapp: "WhatsApp",
      email: "E-mail",
      voice: "Chamadas",
      "*": "Todos os canais",
    },
    sentTo: "Enviadas para",
    messages: "Mensagens",
    from: "De",
    fromAccount: (brand) => `${brand} (todos os remetentes)`,
    fromSender: (sender) => `Apenas ${sender}`,
    confirmHeading: (brand) => `Cancelar a inscrição de ${brand}?`,
    confirmBody: "Toque no botão para deixar de receber estas mensagens. Nada muda até que você o faça.",
    confirmButton: "Cancelar inscrição",
    doneHeading: "Inscrição cancelada",
    doneBody: "Você não receberá mais estas mensagens.",
    undoHint: "Cancelou por engano? Você pode desfazer na próxima hora.",
    undoButton: "Reativar inscrição",
    undoneHeading: "Inscrição reativada",
    undoneBody: "Você pode voltar a receber estas mensagens. Para interrompê-las, abra o link novamente.",
    undoClosedHeading: "Não é mais possível desfazer",
    undoClosedBody:
      "Passaram-se mais de 24 horas desde o cancelamento, então sua inscrição continua cancelada. Entre em contato com o remetente para se inscrever novamente.",
    notFoundHeading: "Este link não funciona",
    notFoundBody: "Verifique se você abriu o link completo da mensagem. Nada foi alterado.",
    goneHeading: "Este link expirou",
    goneBody: "Nada foi alterado. Use o link de cancelamento de uma mensagem mais recente.",
    rateLimitedHeading: "Tentativas demais",
    rateLimitedBody: "Aguarde um minuto e tente novamente.",
    errorHeading: "Algo deu errado",
    errorBody: "Nada foi alterado. Tente novamente em instantes.",
  },
  it: {
    channel: { sms: "SMS", whatsapp: "WhatsApp", email: "Email", voice: "Chiamate", "*": "Tutti i canali" },
    sentTo: "Inviati a",
    messages: "Messaggi",
    from: "Da",
    fromAccount: (brand) => `${brand} (tutti i mittenti)`,
    fromSender: (sender) => `Solo ${sender}`,
    confirmHeading: (brand) => `Annullare l’iscrizione a ${brand}?`,
    confirmBody: "Premi il pulsante per non ricevere più questi messaggi. Nulla cambia finché non lo fai.",
    confirmButton: "Annulla iscrizione",
    doneHeading: "Iscrizione annullata",
    doneBody: "Non riceverai più questi messaggi.",
    undoHint: "Annullata per errore? Puoi ripristinarla entro un’ora.",
    undoButton: "Riattiva iscrizione",
    undoneHeading: "Iscrizione riattivata",
    undoneBody: "Potresti ricevere di nuovo questi messaggi. Per interromperli, apri di nuovo il link.",
    undoClosedHeading: "Non è più possibile annullare",
    undoClosedBody:
      "Sono passate più di 24 ore dall’annullamento: l’iscrizione resta annullata. Contatta il mittente per iscriverti di nuovo.",
    notFoundHeading: "Questo link non funziona",
    notFoundBody: "Verifica di aver aperto il link completo dal messaggio. Non è stato modificato nulla.",
    goneHeading: "Questo link è scaduto",
    goneBody: "Non è stato modificato nulla. Usa il link di annullamento di un messaggio più recente.",
    rateLimitedHeading: "Troppi tentativi",
    rateLimitedBody: "Attendi un minuto, poi riprova.",
    errorHeading: "Qualcosa è andato storto",
    errorBody: "Non è stato modificato nulla. Riprova tra un momento.",
  },
};
