/** Confirmations sent through the SMS providers' send APIs: credentials, requests, answers. Pure. */
export {
  buildSendRequest,
  isSendApiProvider,
  SEND_API_DEFAULT_BASE_URLS,
  SendApiProvider,
  SendCredentials,
  type SendOutcome,
  type SendRequest,
  type SendRequestInput,
  sendCredentialsProblem,
  sendOutcome,
} from "./send-api.ts";
