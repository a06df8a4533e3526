import { OptoutClient } from "@optout/client";
import { Vonage } from "@vonage/server-sdk";

const optout = new OptoutClient({
  baseUrl: process.env.OPTOUT_URL ?? "https://optout.example.com",
  apiKey: process.env.OPTOUT_API_KEY ?? "",
});
const vonage = new Vonage({
  apiKey: process.env.VONAGE_API_KEY ?? "",
  apiSecret: process.env.VONAGE_API_SECRET ?? "",
});
const FROM = "ACME"; // the sender: an alphanumeric sender ID or your Vonage number

/** Sends one SMS unless the recipient opted out; Vonage's message id, or null when blocked. */
export async function sendSms(to: string, text: string): Promise<string | null> {
  // A failed check throws (OptoutError): the message is not sent. Fail closed.
  const decision = await optout.check({ address: to, sender: FROM, channel: "sms" });
  if (!decision.allowed) return null;
  // Vonage's SMS API takes E.164 without the leading "+".
  const response = await vonage.sms.send({ to: decision.address.slice(1), from: FROM, text });
  return response.messages[0]?.messageId ?? null;
}
