import type { StatusCallbackProvider } from "../types.ts";
import { bandwidth } from "./bandwidth.ts";
import { infobip } from "./infobip.ts";
import { messagebird } from "./messagebird.ts";
import { plivo } from "./plivo.ts";
import type { StatusCallbackAdapter } from "./shared.ts";
import { sinch } from "./sinch.ts";
import { telnyx } from "./telnyx.ts";
import { twilio } from "./twilio.ts";
import { vonage } from "./vonage.ts";
import { whatsapp } from "./whatsapp.ts";

/** One reader per provider; the exhaustive record makes adding a provider a compile error until wired. */
export const STATUS_ADAPTERS: Readonly<Record<StatusCallbackProvider, StatusCallbackAdapter>> = {
  twilio,
  vonage,
  plivo,
  telnyx,
  infobip,
  sinch,
  bandwidth,
  messagebird,
  whatsapp,
};
