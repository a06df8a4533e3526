import { OptoutClient } from "@optout/client";
import twilio from "twilio";

const optout = new OptoutClient({
  baseUrl: process.env.OPTOUT_URL ?? "https://optout.example.com",
  apiKey: process.env.OPTOUT_API_KEY ?? "",
});
const twilioClient = twilio(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN);
const FROM = "+14155550100"; // the sender: your Twilio number

/** Sends one SMS unless the recipient opted out; the message SID, or null when blocked. */
export async function sendSms(to: string, body: string): Promise<string | null> {
  // A failed check throws (OptoutError): the message is not sent. Fail closed.
  const decision = await optout.check({ address: to, sender: FROM, channel: "sms" });
  if (!decision.allowed) return null;
  const message = await twilioClient.messages.create({ to: decision.address, from: FROM, body });
  return message.sid;
}

/** A campaign: one check per 1,000 recipients, then a send to each one still allowed. */
export async function sendCampaign(recipients: string[], body: string): Promise<string[]> {
  const results = await optout.checkMany(
    recipients.map((address) => ({ address, sender: FROM, channel: "sms" })),
  );
  const sids: string[] = [];
  for (const result of results) {
    // An unreadable number comes back as { address, error } in its place: skip it.
    if (!("allowed" in result) || !result.allowed) continue;
    const message = await twilioClient.messages.create({ to: result.address, from: FROM, body });
    sids.push(message.sid);
  }
  return sids;
}
