import { OptoutClient } from "@optout/client";

const optout = new OptoutClient({
  baseUrl: "https://optout.example.com", // your edge
  apiKey: process.env.OPTOUT_API_KEY ?? "", // sk_live_…
});

export async function sendReminder(phone: string, text: string): Promise<boolean> {
  const decision = await optout.check({ address: phone, sender: "ACME", channel: "sms" });
  if (!decision.allowed) {
    // blockedBy names the entry: its channel, scope, source (keyword, link, trigger, ...) and time.
    console.info(`not sent: ${decision.address} opted out via ${decision.blockedBy?.source}`);
    return false;
  }
  await yourProvider.send({ to: decision.address, text }); // decision.address is E.164
  return true;
}

declare const yourProvider: { send(message: { to: string; text: string }): Promise<unknown> };
