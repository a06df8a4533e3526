import type { EventAdapter, EventProvider } from "../types.ts";
import { mailgun } from "./mailgun.ts";
import { postmark } from "./postmark.ts";
import { resend } from "./resend.ts";
import { sendgrid } from "./sendgrid.ts";
import { ses } from "./ses.ts";

/** One adapter per provider; the exhaustive record makes adding a provider a compile error until wired. */
export const EVENT_ADAPTERS: Readonly<Record<EventProvider, EventAdapter>> = {
  sendgrid,
  ses,
  mailgun,
  postmark,
  resend,
};
