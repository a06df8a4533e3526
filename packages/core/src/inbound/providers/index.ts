import type { InboundProvider, ProviderAdapter } from "../types.ts";
import { bandwidth } from "./bandwidth.ts";
import { generic } from "./generic.ts";
import { infobip } from "./infobip.ts";
import { messagebird } from "./messagebird.ts";
import { plivo } from "./plivo.ts";
import { sinch } from "./sinch.ts";
import { telnyx } from "./telnyx.ts";
import { twilio } from "./twilio.ts";
import { vonage } from "./vonage.ts";
import { whatsapp } from "./whatsapp.ts";

/** One adapter per provider; the exhaustive record makes adding a provider a compile error until wired. */
export const PROVIDER_ADAPTERS: Readonly<Record<InboundProvider, ProviderAdapter>> = {
  twilio,
  vonage,
  plivo,
  telnyx,
  infobip,
  sinch,
  bandwidth,
  messagebird,
  whatsapp,
  generic,
};
