import { createHash, generateKeyPairSync, sign } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DomainError,
  ProviderEvent,
  parseStatusCallbacks,
  StatusCallbackProvider,
  verifyWebhook,
} from "../../src/index.ts";
import {
  basic,
  form,
  get,
  hmacB64,
  hmacHex,
  jwtHs,
  NOW,
  NOW_ISO,
  post,
  sha256Hex,
  tamper,
} from "../inbound/support.ts";

const URL = "https://optout.example.com/events/x/acc_123";

// ---------------------------------------------------------------------------------------------
// Each provider's documented callback payloads (adapted only where noted).
// ---------------------------------------------------------------------------------------------

// Twilio's "Track the message status of outbound messages" guide: a status callback's form.
const TWILIO = {
  AccountSid: "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
  ApiVersion: "2010-04-01",
  From: "+15017250604",
  MessageSid: "SM1342fe1b2c904d1ab04f0fc7a58abca9",
  MessageStatus: "sent",
  SmsSid: "SM1342fe1b2c904d1ab04f0fc7a58abca9",
  SmsStatus: "sent",
  To: "+15558675310",
};
const twilioWith = (fields: Record<string, string>) => form({ ...TWILIO, ...fields });

// Vonage's "Messaging opted-out numbers" guide (Opt-Out Assist): the DLR of a blocked send.
const VONAGE_DLR = {
  msisdn: "447700900000",
  to: "AcmeInc",
  "network-code": "12345",
  messageId: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
  price: "0.00000000",
  status: "failed",
  scts: "2001011400",
  "err-code": "9",
  "api-key": "abcd1234",
  "message-timestamp": "2020-01-01 12:00:00",
};

// Vonage's "Messages API status callbacks" page: an SMS submitted callback.
const VONAGE_MESSAGES = {
  message_uuid: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
  to: "447700900000",
  from: "447700900001",
  timestamp: "2023-05-01T14:00:00.000Z",
  status: "submitted",
  usage: { currency: "EUR", price: "0.0333" },
  sms: { count_total: "2" },
  channel: "sms",
};

// Plivo's "Message status callbacks": the form of a delivered SMS.
const PLIVO = {
  ErrorCode: "",
  From: "14152223333",
  MCC: "310",
  MNC: "260",
  MessageUUID: "b1bd5d74-64c7-11ee-9edc-0242ac110002",
  ParentMessageUUID: "b1bd5d74-64c7-11ee-9edc-0242ac110002",
  PartInfo: "1 of 1",
  Status: "delivered",
  To: "14155550100",
  TotalAmount: "0.00550",
  TotalRate: "0.00550",
  Units: "1",
};

// Telnyx's "deliveryUpdate" callback reference (message.sent; `occurred_at` given a real time).
function telnyx(eventType: string, status: string, errors: unknown[] = []) {
  return JSON.stringify({
    data: {
      record_type: "event",
      id: "86f58db9-0fe3-4adc-9d1f-46e66e6e9323",
      event_type: eventType,
      occurred_at: "2019-01-23T18:10:04.123+00:00",
      payload: {
        record_type: "message",
        direction: "outbound",
        id: "40385f64-5717-4562-b3fc-2c963f66afa6",
        type: "SMS",
        messaging_profile_id: "4000eba1-a0c0-4563-9925-b25e842a7cb6",
        organization_id: "b448f9cc-a842-4784-98e9-03c1a5872950",
        from: { phone_number: "+18445550001", carrier: "TELNYX LLC", line_type: "VoIP" },
        to: [{ phone_number: "+18665550001", status, carrier: "T-MOBILE USA, INC.", line_type: "Wireless" }],
        cc: [],
        text: "Hello, World!",
        encoding: "GSM-7",
        parts: 1,
        tags: ["Greetings"],
        received_at: "2019-01-23T18:10:02.574Z",
        sent_at: null,
        completed_at: null,
        valid_until: null,
        errors,
      },
    },
    meta: { attempt: 1, delivered_to: "https://www.example.com/hooks" },
  });
}
const TELNYX_STOP_ERROR = {
  code: "40300",
  title: "Blocked due to STOP message",
  detail: "Messages cannot be sent from '+18445550001' to '+18665550001' due to an existing block rule.",
};

// Infobip's "Receive outbound SMS message reports" webhook example.
function infobip(status: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    results: [
      {
        bulkId: "BULK-ID-123-xyz",
        messageId: "MESSAGE-ID-123-xyz",
        to: "41793026727",
        sentAt: "2019-11-09T16:00:00.000+0000",
        doneAt: "2019-11-09T16:00:00.000+0000",
        smsCount: 1,
        mccMnc: "22801",
        callbackData: "DLR callback data",
        price: { pricePerMessage: 0.01, currency: "EUR" },
        status,
        error: {
          groupId: 0,
          groupName: "OK",
          id: 0,
          name: "NO_ERROR",
          description: "No Error",
          permanent: false,
        },
        ...extra,
      },
    ],
  });
}
const INFOBIP_DELIVERED = {
  groupId: 3,
  groupName: "DELIVERED",
  id: 5,
  name: "DELIVERED_TO_HANDSET",
  description: "Message delivered to handset",
};

// Sinch's "Delivery reports" reference: a per-recipient report and a per-batch (full) report.
function sinchRecipient(status: string, code: number, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    at: "2022-08-30T08:16:08.930Z",
    batch_id: "01FC66621XXXXX119Z8PMV1QPQ",
    client_reference: "a client reference",
    code,
    operator_status_at: "2022-08-30T08:16:00.000Z",
    recipient: "44231235674",
    status,
    type: "recipient_delivery_report_sms",
    ...extra,
  });
}
const SINCH_BATCH = JSON.stringify({
  type: "delivery_report_sms",
  batch_id: "01FC66621XXXXX119Z8PMV1QPQ",
  total_message_count: 2,
  statuses: [
    { code: 0, status: "Delivered", count: 1, recipients: ["+44231235674"] },
    { code: 402, status: "Aborted", count: 1, recipients: ["+44231235675"] },
  ],
});

// Bandwidth's messaging "Webhooks" reference examples.
function bandwidth(type: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify([
    {
      type,
      time: "2016-09-14T18:20:16Z",
      description: "ok",
      to: "+12345678902",
      message: {
        id: "14762070468292kw2fuqty55yp2b2",
        time: "2016-09-14T18:20:16Z",
        to: ["+12345678902"],
        from: "+12345678901",
        text: "",
        applicationId: "93de2206-9669-4e07-948d-329f4b722ee2",
        owner: "+12345678901",
        direction: "out",
        segmentCount: 1,
      },
      ...extra,
    },
  ]);
}

// MessageBird's SMS API "Handle a status report" (GET query).
const MESSAGEBIRD_REPORT = {
  id: "efa6405d518d4c0c88cce11f7db775fb",
  reference: "the-customers-reference",
  recipient: "31612345678",
  status: "delivered",
  statusDatetime: "2017-09-01T10:00:05+00:00",
  mccmnc: "20408",
  ported: "0",
};

// A Bird Channels outbound message event, shaped like Bird's message object (its docs show the
// inbound event in full; the outbound one differs in direction, sender and receiver).
function birdOutbound(status: string, event = "sms.outbound") {
  return JSON.stringify({
    service: "channels",
    event,
    payload: {
      id: "4f9c3f6a-7f3e-4d3b-9f53-1d1b0a7e3c21",
      channelId: "614208aa-b153-4d5d-9989-2fddfc0ce4c3",
      sender: {
        connector: { id: "86cc4dc0-3dc0-41b7-ac43-8ec829ead56f", identifierValue: "+3197010255555" },
      },
      receiver: {
        contacts: [
          {
            id: "32cf5eee-f940-422c-ab8c-5f753aad5efd",
            identifierKey: "phonenumber",
            identifierValue: "+31612345678",
          },
        ],
      },
      body: { type: "text", text: { text: "Your order shipped" } },
      reference: "optout_message_id=msg-77",
      status,
      direction: "outgoing",
      lastStatusAt: "2022-12-22T08:32:52.736Z",
      createdAt: "2022-12-22T08:32:50.736Z",
      updatedAt: "2022-12-22T08:32:52.736Z",
    },
  });
}

// WhatsApp statuses as Meta sends them (david-lev/pywa `tests/data/updates/message_status.json`),
// and a user_preferences change (Meta's "user_preferences webhook reference").
function whatsappStatus(status: Record<string, unknown>) {
  return JSON.stringify({
    object: "whatsapp_business_account",
    entry: [
      {
        id: "5467539754836534",
        changes: [
          {
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "972123456789", phone_number_id: "1122334455667" },
              statuses: [
                { id: "wamid.xyzxyz", timestamp: "1698266945", recipient_id: "972987654321", ...status },
              ],
            },
            field: "messages",
          },
        ],
      },
    ],
  });
}
function whatsappPreference(value: string) {
  return JSON.stringify({
    object: "whatsapp_business_account",
    entry: [
      {
        id: "102290129340398",
        changes: [
          {
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" },
              contacts: [{ profile: { name: "Sheena Nelson" }, wa_id: "16505551234" }],
              user_preferences: [
                {
                  wa_id: "16505551234",
                  detail: `User requested to ${value} marketing messages`,
                  category: "marketing_messages",
                  value,
                  timestamp: 1731705721,
                },
              ],
            },
            field: "user_preferences",
          },
        ],
      },
    ],
  });
}

const json = (body: string) => post(URL, body, { "content-type": "application/json" });
const formPost = (body: string) => post(URL, body, { "content-type": "application/x-www-form-urlencoded" });

function event(parts: Record<string, unknown>) {
  return { kind: "message_event", event: { campaign: null, ...parts } };
}
function optOut(parts: Record<string, unknown>) {
  return { kind: "opt_out", ...parts };
}

// ---------------------------------------------------------------------------------------------

describe("parseStatusCallbacks: every mapped status", () => {
  it.each<{
    name: string;
    provider: StatusCallbackProvider;
    request: ReturnType<typeof post>;
    expected: unknown[];
  }>([
    // Twilio
    {
      name: "twilio sent",
      provider: "twilio",
      request: formPost(form(TWILIO)),
      expected: [
        event({
          type: "sent",
          messageId: TWILIO.MessageSid,
          address: "+15558675310",
          sender: "+15017250604",
          channel: "sms",
          occurredAt: NOW_ISO,
          providerEventId: `${TWILIO.MessageSid}:sent`,
        }),
      ],
    },
    {
      name: "twilio delivered, keyed by the user's id from the signed callback URL",
      provider: "twilio",
      request: post(
        `${URL}?optout_message_id=msg-1&optout_campaign=spring`,
        twilioWith({ MessageStatus: "delivered", SmsStatus: "delivered" }),
      ),
      expected: [
        event({
          type: "delivered",
          messageId: "msg-1",
          address: "+15558675310",
          sender: "+15017250604",
          channel: "sms",
          occurredAt: NOW_ISO,
          campaign: "spring",
          providerEventId: `${TWILIO.MessageSid}:delivered`,
        }),
      ],
    },
    {
      name: "twilio read of a WhatsApp message is opened, on the whatsapp channel",
      provider: "twilio",
      request: formPost(
        twilioWith({
          MessageStatus: "read",
          SmsStatus: "read",
          From: "whatsapp:+14155238886",
          To: "whatsapp:+15005550006",
        }),
      ),
      expected: [
        event({
          type: "opened",
          messageId: TWILIO.MessageSid,
          address: "+15005550006",
          sender: "+14155238886",
          channel: "whatsapp",
          occurredAt: NOW_ISO,
          providerEventId: `${TWILIO.MessageSid}:read`,
        }),
      ],
    },
    {
      name: "twilio failed with 21610 (attempt to send to unsubscribed recipient) is an opt-out from that sender",
      provider: "twilio",
      request: formPost(twilioWith({ MessageStatus: "failed", SmsStatus: "failed", ErrorCode: "21610" })),
      expected: [
        optOut({
          address: "+15558675310",
          sender: "+15017250604",
          channel: "sms",
          occurredAt: NOW_ISO,
          providerEventId: `${TWILIO.MessageSid}:failed:21610`,
          reason: "twilio error 21610 (attempt to send to unsubscribed recipient)",
          messageId: TWILIO.MessageSid,
        }),
      ],
    },
    {
      name: "twilio undelivered with 30003 (unreachable handset) gives nothing",
      provider: "twilio",
      request: formPost(
        twilioWith({ MessageStatus: "undelivered", SmsStatus: "undelivered", ErrorCode: "30003" }),
      ),
      expected: [],
    },
    {
      name: "twilio queued gives nothing",
      provider: "twilio",
      request: formPost(twilioWith({ MessageStatus: "queued", SmsStatus: "queued" })),
      expected: [],
    },
    {
      name: "twilio: an incoming message posted here is parseInbound's",
      provider: "twilio",
      request: formPost(
        form({ MessageSid: "SM1", SmsStatus: "received", From: "+1", To: "+2", Body: "STOP" }),
      ),
      expected: [],
    },
    {
      name: "twilio: a Messenger message is not SMS",
      provider: "twilio",
      request: formPost(
        twilioWith({ MessageStatus: "delivered", To: "messenger:123", From: "messenger:456" }),
      ),
      expected: [],
    },
    // Vonage
    {
      name: "vonage DLR failed with err-code 9 (opted out, Opt-Out Assist's example) is an opt-out",
      provider: "vonage",
      request: json(JSON.stringify(VONAGE_DLR)),
      expected: [
        optOut({
          address: "+447700900000",
          sender: "AcmeInc",
          channel: "sms",
          occurredAt: "2020-01-01T12:00:00.000Z",
          providerEventId: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab:failed:9",
          reason: "vonage err-code 9 (user has requested not to receive messages from the sending number)",
          messageId: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        }),
      ],
    },
    {
      name: "vonage DLR rejected with err-code 9, as a GET query",
      provider: "vonage",
      request: get(`${URL}?${form({ ...VONAGE_DLR, status: "rejected" })}`),
      expected: [
        optOut({
          address: "+447700900000",
          sender: "AcmeInc",
          channel: "sms",
          occurredAt: "2020-01-01T12:00:00.000Z",
          providerEventId: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab:rejected:9",
          reason: "vonage err-code 9 (user has requested not to receive messages from the sending number)",
          messageId: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        }),
      ],
    },
    {
      name: "vonage DLR delivered (POST form), keyed by client-ref",
      provider: "vonage",
      request: formPost(
        form({
          ...VONAGE_DLR,
          to: "447700900001",
          status: "delivered",
          "err-code": "0",
          "client-ref": "optout_message_id=msg-9&optout_campaign=winter",
        }),
      ),
      expected: [
        event({
          type: "delivered",
          messageId: "msg-9",
          address: "+447700900000",
          sender: "+447700900001",
          channel: "sms",
          occurredAt: "2020-01-01T12:00:00.000Z",
          campaign: "winter",
          providerEventId: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab:delivered",
        }),
      ],
    },
    {
      name: "vonage DLR accepted is sent",
      provider: "vonage",
      request: json(JSON.stringify({ ...VONAGE_DLR, status: "accepted", "err-code": 0 })),
      expected: [
        event({
          type: "sent",
          messageId: VONAGE_DLR.messageId,
          address: "+447700900000",
          sender: "AcmeInc",
          channel: "sms",
          occurredAt: "2020-01-01T12:00:00.000Z",
          providerEventId: `${VONAGE_DLR.messageId}:accepted`,
        }),
      ],
    },
    {
      name: "vonage DLR failed with err-code 4 (call barred by user) gives nothing",
      provider: "vonage",
      request: json(JSON.stringify({ ...VONAGE_DLR, "err-code": "4" })),
      expected: [],
    },
    {
      name: "vonage DLR expired gives nothing",
      provider: "vonage",
      request: json(JSON.stringify({ ...VONAGE_DLR, status: "expired", "err-code": "2" })),
      expected: [],
    },
    {
      name: "vonage Messages API submitted is sent",
      provider: "vonage",
      request: json(JSON.stringify({ ...VONAGE_MESSAGES, client_ref: '{"optout_message_id":"msg-3"}' })),
      expected: [
        event({
          type: "sent",
          messageId: "msg-3",
          address: "+447700900000",
          sender: "+447700900001",
          channel: "sms",
          occurredAt: "2023-05-01T14:00:00.000Z",
          providerEventId: `${VONAGE_MESSAGES.message_uuid}:submitted`,
        }),
      ],
    },
    {
      name: "vonage Messages API delivered",
      provider: "vonage",
      request: json(JSON.stringify({ ...VONAGE_MESSAGES, status: "delivered" })),
      expected: [
        event({
          type: "delivered",
          messageId: VONAGE_MESSAGES.message_uuid,
          address: "+447700900000",
          sender: "+447700900001",
          channel: "sms",
          occurredAt: "2023-05-01T14:00:00.000Z",
          providerEventId: `${VONAGE_MESSAGES.message_uuid}:delivered`,
        }),
      ],
    },
    {
      name: "vonage Messages API read of a WhatsApp message is opened",
      provider: "vonage",
      request: json(JSON.stringify({ ...VONAGE_MESSAGES, status: "read", channel: "whatsapp" })),
      expected: [
        event({
          type: "opened",
          messageId: VONAGE_MESSAGES.message_uuid,
          address: "+447700900000",
          sender: "+447700900001",
          channel: "whatsapp",
          occurredAt: "2023-05-01T14:00:00.000Z",
          providerEventId: `${VONAGE_MESSAGES.message_uuid}:read`,
        }),
      ],
    },
    {
      name: "vonage Messages API rejected gives nothing",
      provider: "vonage",
      request: json(
        JSON.stringify({
          ...VONAGE_MESSAGES,
          status: "rejected",
          error: {
            type: "https://developer.vonage.com/api-errors/messages#1330",
            title: 1330,
            detail: "Unroutable",
          },
        }),
      ),
      expected: [],
    },
    {
      name: "vonage Messages API on Viber gives nothing",
      provider: "vonage",
      request: json(JSON.stringify({ ...VONAGE_MESSAGES, status: "delivered", channel: "viber_service" })),
      expected: [],
    },
    // Plivo
    {
      name: "plivo delivered",
      provider: "plivo",
      request: formPost(form(PLIVO)),
      expected: [
        event({
          type: "delivered",
          messageId: PLIVO.ParentMessageUUID,
          address: "+14155550100",
          sender: "+14152223333",
          channel: "sms",
          occurredAt: NOW_ISO,
          providerEventId: `${PLIVO.MessageUUID}:delivered`,
        }),
      ],
    },
    {
      name: "plivo sent",
      provider: "plivo",
      request: formPost(form({ ...PLIVO, Status: "sent" })),
      expected: [
        event({
          type: "sent",
          messageId: PLIVO.ParentMessageUUID,
          address: "+14155550100",
          sender: "+14152223333",
          channel: "sms",
          occurredAt: NOW_ISO,
          providerEventId: `${PLIVO.MessageUUID}:sent`,
        }),
      ],
    },
    {
      name: "plivo failed with error 200 (recipient replied STOP) is an opt-out",
      provider: "plivo",
      request: formPost(form({ ...PLIVO, Status: "failed", ErrorCode: "200" })),
      expected: [
        optOut({
          address: "+14155550100",
          sender: "+14152223333",
          channel: "sms",
          occurredAt: NOW_ISO,
          providerEventId: `${PLIVO.MessageUUID}:failed:200`,
          reason: "plivo error 200 (destination opted out of messages from the source number (STOP))",
          messageId: PLIVO.ParentMessageUUID,
        }),
      ],
    },
    {
      name: "plivo undelivered with error 30 (spam detected) gives nothing",
      provider: "plivo",
      request: formPost(form({ ...PLIVO, Status: "undelivered", ErrorCode: "30" })),
      expected: [],
    },
    // Telnyx
    {
      name: "telnyx message.sent",
      provider: "telnyx",
      request: json(telnyx("message.sent", "sent")),
      expected: [
        event({
          type: "sent",
          messageId: "40385f64-5717-4562-b3fc-2c963f66afa6",
          address: "+18665550001",
          sender: "+18445550001",
          channel: "sms",
          occurredAt: "2019-01-23T18:10:04.123Z",
          providerEventId: "86f58db9-0fe3-4adc-9d1f-46e66e6e9323",
        }),
      ],
    },
    {
      name: "telnyx message.finalized delivered",
      provider: "telnyx",
      request: json(telnyx("message.finalized", "delivered")),
      expected: [
        event({
          type: "delivered",
          messageId: "40385f64-5717-4562-b3fc-2c963f66afa6",
          address: "+18665550001",
          sender: "+18445550001",
          channel: "sms",
          occurredAt: "2019-01-23T18:10:04.123Z",
          providerEventId: "86f58db9-0fe3-4adc-9d1f-46e66e6e9323",
        }),
      ],
    },
    {
      name: "telnyx message.finalized sending_failed with 40300 (blocked as STOP) is an opt-out",
      provider: "telnyx",
      request: json(telnyx("message.finalized", "sending_failed", [TELNYX_STOP_ERROR])),
      expected: [
        optOut({
          address: "+18665550001",
          sender: "+18445550001",
          channel: "sms",
          occurredAt: "2019-01-23T18:10:04.123Z",
          providerEventId: "86f58db9-0fe3-4adc-9d1f-46e66e6e9323",
          reason: "telnyx error 40300 (blocked due to STOP message)",
          messageId: "40385f64-5717-4562-b3fc-2c963f66afa6",
        }),
      ],
    },
    {
      name: "telnyx message.finalized delivery_failed with 40002 (blocked as spam) gives nothing",
      provider: "telnyx",
      request: json(
        telnyx("message.finalized", "delivery_failed", [
          { code: "40002", title: "Blocked as spam - temporary" },
        ]),
      ),
      expected: [],
    },
    {
      name: "telnyx message.received is parseInbound's",
      provider: "telnyx",
      request: json(telnyx("message.received", "webhook_delivered")),
      expected: [],
    },
    // Infobip
    {
      name: "infobip DELIVERED_TO_HANDSET is delivered",
      provider: "infobip",
      request: json(infobip(INFOBIP_DELIVERED)),
      expected: [
        event({
          type: "delivered",
          messageId: "MESSAGE-ID-123-xyz",
          address: "+41793026727",
          sender: null,
          channel: "sms",
          occurredAt: "2019-11-09T16:00:00.000Z",
          providerEventId: "MESSAGE-ID-123-xyz:3:5",
        }),
      ],
    },
    {
      name: "infobip DELIVERED_TO_OPERATOR is sent, keyed by callbackData, sender when named",
      provider: "infobip",
      request: json(
        infobip(
          { groupId: 3, groupName: "DELIVERED", id: 2, name: "DELIVERED_TO_OPERATOR" },
          { callbackData: '{"optout_message_id":"msg-5","optout_campaign":"c1"}', sender: "InfoSMS" },
        ),
      ),
      expected: [
        event({
          type: "sent",
          messageId: "msg-5",
          address: "+41793026727",
          sender: "InfoSMS",
          channel: "sms",
          occurredAt: "2019-11-09T16:00:00.000Z",
          campaign: "c1",
          providerEventId: "MESSAGE-ID-123-xyz:3:2",
        }),
      ],
    },
    {
      name: "infobip REJECTED_DESTINATION_BLOCKLISTED (5/14) is an opt-out",
      provider: "infobip",
      request: json(
        infobip(
          { groupId: 5, groupName: "REJECTED", id: 14, name: "REJECTED_DESTINATION_BLOCKLISTED" },
          { sender: "41793026700" },
        ),
      ),
      expected: [
        optOut({
          address: "+41793026727",
          sender: "+41793026700",
          channel: "sms",
          occurredAt: "2019-11-09T16:00:00.000Z",
          providerEventId: "MESSAGE-ID-123-xyz:5:14",
          reason: "infobip status 14 (REJECTED_DESTINATION_BLOCKLISTED)",
          messageId: "MESSAGE-ID-123-xyz",
        }),
      ],
    },
    {
      name: "infobip's older name for 5/14 (REJECTED_DESTINATION) without a sender: opt-out with sender null",
      provider: "infobip",
      request: json(infobip({ groupId: 5, groupName: "REJECTED", id: 14, name: "REJECTED_DESTINATION" })),
      expected: [
        optOut({
          address: "+41793026727",
          sender: null,
          channel: "sms",
          occurredAt: "2019-11-09T16:00:00.000Z",
          providerEventId: "MESSAGE-ID-123-xyz:5:14",
          reason: "infobip status 14 (REJECTED_DESTINATION_BLOCKLISTED)",
          messageId: "MESSAGE-ID-123-xyz",
        }),
      ],
    },
    {
      name: "infobip REJECTED_DND (5/10) gives nothing",
      provider: "infobip",
      request: json(infobip({ groupId: 5, groupName: "REJECTED", id: 10, name: "REJECTED_DND" })),
      expected: [],
    },
    {
      name: "infobip UNDELIVERABLE_NOT_DELIVERED gives nothing",
      provider: "infobip",
      request: json(
        infobip({ groupId: 2, groupName: "UNDELIVERABLE", id: 9, name: "UNDELIVERABLE_NOT_DELIVERED" }),
      ),
      expected: [],
    },
    {
      name: "infobip inbound messages are parseInbound's",
      provider: "infobip",
      request: json(JSON.stringify({ results: [{ messageId: "m", from: "1", to: "2", text: "STOP" }] })),
      expected: [],
    },
    // Sinch
    {
      name: "sinch recipient report Delivered",
      provider: "sinch",
      request: json(sinchRecipient("Delivered", 0)),
      expected: [
        event({
          type: "delivered",
          messageId: "01FC66621XXXXX119Z8PMV1QPQ",
          address: "+44231235674",
          sender: null,
          channel: "sms",
          occurredAt: "2022-08-30T08:16:00.000Z",
          providerEventId: "01FC66621XXXXX119Z8PMV1QPQ:+44231235674:Delivered",
        }),
      ],
    },
    {
      name: "sinch recipient report Dispatched is sent, keyed by client_reference",
      provider: "sinch",
      request: json(
        sinchRecipient("Dispatched", 401, {
          client_reference: "optout_message_id=msg-8",
          applied_originator: "447537404817",
        }),
      ),
      expected: [
        event({
          type: "sent",
          messageId: "msg-8",
          address: "+44231235674",
          sender: "+447537404817",
          channel: "sms",
          occurredAt: "2022-08-30T08:16:00.000Z",
          providerEventId: "01FC66621XXXXX119Z8PMV1QPQ:+44231235674:Dispatched",
        }),
      ],
    },
    {
      name: "sinch batch report: one event per listed recipient, failures give nothing",
      provider: "sinch",
      request: json(SINCH_BATCH),
      expected: [
        event({
          type: "delivered",
          messageId: "01FC66621XXXXX119Z8PMV1QPQ",
          address: "+44231235674",
          sender: null,
          channel: "sms",
          occurredAt: NOW_ISO,
          providerEventId: "01FC66621XXXXX119Z8PMV1QPQ:+44231235674:Delivered",
        }),
      ],
    },
    {
      name: "sinch Deleted (invalid MSISDN or opted out, unspecified) gives nothing",
      provider: "sinch",
      request: json(sinchRecipient("Deleted", 0)),
      expected: [],
    },
    {
      name: "sinch mo_text is parseInbound's",
      provider: "sinch",
      request: json(JSON.stringify({ type: "mo_text", id: "1", from: "1", to: "2", body: "STOP" })),
      expected: [],
    },
    // Bandwidth
    {
      name: "bandwidth message-delivered",
      provider: "bandwidth",
      request: json(bandwidth("message-delivered")),
      expected: [
        event({
          type: "delivered",
          messageId: "14762070468292kw2fuqty55yp2b2",
          address: "+12345678902",
          sender: "+12345678901",
          channel: "sms",
          occurredAt: "2016-09-14T18:20:16.000Z",
          providerEventId: "14762070468292kw2fuqty55yp2b2:message-delivered:+12345678902",
        }),
      ],
    },
    {
      name: "bandwidth message-sending is sent, keyed by tag",
      provider: "bandwidth",
      request: json(
        bandwidth("message-sending", { description: "Message is sending to carrier" }).replace(
          '"segmentCount":1',
          '"segmentCount":1,"tag":"optout_message_id=msg-2"',
        ),
      ),
      expected: [
        event({
          type: "sent",
          messageId: "msg-2",
          address: "+12345678902",
          sender: "+12345678901",
          channel: "sms",
          occurredAt: "2016-09-14T18:20:16.000Z",
          providerEventId: "14762070468292kw2fuqty55yp2b2:message-sending:+12345678902",
        }),
      ],
    },
    {
      name: "bandwidth message-failed 4775 (user opt out) is an opt-out",
      provider: "bandwidth",
      request: json(
        bandwidth("message-failed", {
          errorCode: 4775,
          description: "destination-rejected-due-to-user-opt-out",
        }),
      ),
      expected: [
        optOut({
          address: "+12345678902",
          sender: "+12345678901",
          channel: "sms",
          occurredAt: "2016-09-14T18:20:16.000Z",
          providerEventId: "14762070468292kw2fuqty55yp2b2:message-failed:+12345678902",
          reason: "bandwidth error 4775 (destination-rejected-due-to-user-opt-out)",
          messageId: "14762070468292kw2fuqty55yp2b2",
        }),
      ],
    },
    {
      name: "bandwidth message-failed 4432 (forbidden to country, the docs' example) gives nothing",
      provider: "bandwidth",
      request: json(bandwidth("message-failed", { errorCode: 4432, description: "forbidden to country" })),
      expected: [],
    },
    {
      name: "bandwidth message-failed 4753 (handset block, too broad) gives nothing",
      provider: "bandwidth",
      request: json(bandwidth("message-failed", { errorCode: 4753 })),
      expected: [],
    },
    // MessageBird / Bird
    {
      name: "messagebird status report delivered (GET)",
      provider: "messagebird",
      request: get(`${URL}?${form(MESSAGEBIRD_REPORT)}`),
      expected: [
        event({
          type: "delivered",
          messageId: MESSAGEBIRD_REPORT.id,
          address: "+31612345678",
          sender: null,
          channel: "sms",
          occurredAt: "2017-09-01T10:00:05.000Z",
          providerEventId: `${MESSAGEBIRD_REPORT.id}:31612345678:delivered`,
        }),
      ],
    },
    {
      name: "messagebird status report sent (POST form)",
      provider: "messagebird",
      request: formPost(form({ ...MESSAGEBIRD_REPORT, status: "sent" })),
      expected: [
        event({
          type: "sent",
          messageId: MESSAGEBIRD_REPORT.id,
          address: "+31612345678",
          sender: null,
          channel: "sms",
          occurredAt: "2017-09-01T10:00:05.000Z",
          providerEventId: `${MESSAGEBIRD_REPORT.id}:31612345678:sent`,
        }),
      ],
    },
    {
      name: "messagebird status report delivery_failed gives nothing",
      provider: "messagebird",
      request: get(
        `${URL}?${form({ ...MESSAGEBIRD_REPORT, status: "delivery_failed", statusErrorCode: "104" })}`,
      ),
      expected: [],
    },
    {
      name: "bird sms.outbound delivered, keyed by reference",
      provider: "messagebird",
      request: json(birdOutbound("delivered")),
      expected: [
        event({
          type: "delivered",
          messageId: "msg-77",
          address: "+31612345678",
          sender: "+3197010255555",
          channel: "sms",
          occurredAt: "2022-12-22T08:32:52.736Z",
          providerEventId: "4f9c3f6a-7f3e-4d3b-9f53-1d1b0a7e3c21:delivered",
        }),
      ],
    },
    {
      name: "bird whatsapp.outbound sent",
      provider: "messagebird",
      request: json(birdOutbound("sent", "whatsapp.outbound")),
      expected: [
        event({
          type: "sent",
          messageId: "msg-77",
          address: "+31612345678",
          sender: "+3197010255555",
          channel: "whatsapp",
          occurredAt: "2022-12-22T08:32:52.736Z",
          providerEventId: "4f9c3f6a-7f3e-4d3b-9f53-1d1b0a7e3c21:sent",
        }),
      ],
    },
    {
      name: "bird delivery_failed gives nothing",
      provider: "messagebird",
      request: json(birdOutbound("delivery_failed")),
      expected: [],
    },
    // WhatsApp
    {
      name: "whatsapp sent",
      provider: "whatsapp",
      request: json(whatsappStatus({ status: "sent" })),
      expected: [
        event({
          type: "sent",
          messageId: "wamid.xyzxyz",
          address: "+972987654321",
          sender: "+972123456789",
          channel: "whatsapp",
          occurredAt: "2023-10-25T20:49:05.000Z",
          providerEventId: "wamid.xyzxyz:sent",
        }),
      ],
    },
    {
      name: "whatsapp delivered, keyed by biz_opaque_callback_data",
      provider: "whatsapp",
      request: json(
        whatsappStatus({
          status: "delivered",
          biz_opaque_callback_data: "optout_message_id=msg-6&optout_campaign=launch",
        }),
      ),
      expected: [
        event({
          type: "delivered",
          messageId: "msg-6",
          address: "+972987654321",
          sender: "+972123456789",
          channel: "whatsapp",
          occurredAt: "2023-10-25T20:49:05.000Z",
          campaign: "launch",
          providerEventId: "wamid.xyzxyz:delivered",
        }),
      ],
    },
    {
      name: "whatsapp read is opened",
      provider: "whatsapp",
      request: json(whatsappStatus({ status: "read", timestamp: "1689380458" })),
      expected: [
        event({
          type: "opened",
          messageId: "wamid.xyzxyz",
          address: "+972987654321",
          sender: "+972123456789",
          channel: "whatsapp",
          occurredAt: "2023-07-15T00:20:58.000Z",
          providerEventId: "wamid.xyzxyz:read",
        }),
      ],
    },
    {
      name: "whatsapp failed with 131050 (user stopped marketing messages) is an opt-out from that number",
      provider: "whatsapp",
      request: json(
        whatsappStatus({
          status: "failed",
          errors: [
            {
              code: 131050,
              title:
                "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business",
              message:
                "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business",
              error_data: {
                details:
                  "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business",
              },
            },
          ],
        }),
      ),
      expected: [
        optOut({
          address: "+972987654321",
          sender: "+972123456789",
          channel: "whatsapp",
          occurredAt: "2023-10-25T20:49:05.000Z",
          providerEventId: "wamid.xyzxyz:failed:131050",
          reason: "whatsapp error 131050 (user has stopped marketing messages from this business)",
          messageId: "wamid.xyzxyz",
        }),
      ],
    },
    {
      name: "whatsapp failed with 130472 (experiment, pywa's example) gives nothing",
      provider: "whatsapp",
      request: json(
        whatsappStatus({
          status: "failed",
          timestamp: "1689380458",
          errors: [{ code: 130472, title: "User's number is part of an experiment" }],
        }),
      ),
      expected: [],
    },
    {
      name: "whatsapp failed with 131049 (healthy ecosystem engagement) gives nothing",
      provider: "whatsapp",
      request: json(whatsappStatus({ status: "failed", errors: [{ code: 131049, title: "x" }] })),
      expected: [],
    },
    {
      name: "whatsapp user_preferences stop (marketing messages) is an opt-out",
      provider: "whatsapp",
      request: json(whatsappPreference("stop")),
      expected: [
        optOut({
          address: "+16505551234",
          sender: "+15550783881",
          channel: "whatsapp",
          occurredAt: "2024-11-15T21:22:01.000Z",
          providerEventId: "user_preferences:+15550783881:+16505551234:1731705721",
          reason: "whatsapp marketing messages stopped (User requested to stop marketing messages)",
          messageId: null,
        }),
      ],
    },
    {
      name: "whatsapp user_preferences resume is never read",
      provider: "whatsapp",
      request: json(whatsappPreference("resume")),
      expected: [],
    },
    {
      name: "whatsapp inbound messages are parseInbound's",
      provider: "whatsapp",
      request: json(
        JSON.stringify({
          object: "whatsapp_business_account",
          entry: [
            {
              id: "1",
              changes: [
                {
                  field: "messages",
                  value: {
                    metadata: { display_phone_number: "15550783881" },
                    messages: [{ from: "1", id: "wamid.1", type: "text", text: { body: "STOP" } }],
                  },
                },
              ],
            },
          ],
        }),
      ),
      expected: [],
    },
  ])("$name", ({ provider, request, expected }) => {
    const events = parseStatusCallbacks({ provider, request, now: NOW });
    expect(events).toEqual(expected);
    for (const e of events) expect(ProviderEvent.parse(e)).toEqual(e);
  });
});

describe("parseStatusCallbacks: malformed callbacks throw invalid_input naming provider and part", () => {
  it.each<{ name: string; provider: StatusCallbackProvider; request: ReturnType<typeof post>; part: RegExp }>(
    [
      {
        name: "twilio without parameters",
        provider: "twilio",
        request: formPost(""),
        part: /twilio status callback carries no form parameters/,
      },
      {
        name: "twilio without a To",
        provider: "twilio",
        request: formPost(form({ MessageSid: "SM1", MessageStatus: "delivered", From: "+1" })),
        part: /twilio status callback is malformed: To/,
      },
      {
        name: "vonage DLR without a messageId",
        provider: "vonage",
        request: json(JSON.stringify({ ...VONAGE_DLR, messageId: undefined })),
        part: /vonage delivery receipt is malformed: messageId/,
      },
      {
        name: "vonage Messages API status without a to",
        provider: "vonage",
        request: json(JSON.stringify({ ...VONAGE_MESSAGES, to: undefined })),
        part: /vonage Messages API status is malformed: to/,
      },
      {
        name: "vonage body that is a JSON array",
        provider: "vonage",
        request: json("[]"),
        part: /vonage status webhook body is not a JSON object/,
      },
      {
        name: "plivo without a MessageUUID",
        provider: "plivo",
        request: formPost(form({ ...PLIVO, MessageUUID: "" })),
        part: /plivo status callback is malformed: MessageUUID/,
      },
      {
        name: "telnyx truncated JSON",
        provider: "telnyx",
        request: json(telnyx("message.sent", "sent").slice(0, 80)),
        part: /telnyx webhook body is not valid JSON/,
      },
      {
        name: "telnyx message.finalized without recipients",
        provider: "telnyx",
        request: json(
          JSON.stringify({
            data: {
              id: "e",
              event_type: "message.finalized",
              payload: { id: "m", from: { phone_number: "+1" }, to: [] },
            },
          }),
        ),
        part: /telnyx message\.finalized payload is malformed: to/,
      },
      {
        name: "infobip report without a status or text",
        provider: "infobip",
        request: json(JSON.stringify({ results: [{ messageId: "m", to: "41793026727" }] })),
        part: /infobip results\[0\] is malformed: status/,
      },
      {
        name: "sinch recipient report without a recipient",
        provider: "sinch",
        request: json(
          JSON.stringify({ type: "recipient_delivery_report_sms", batch_id: "b", status: "Delivered" }),
        ),
        part: /sinch recipient_delivery_report_sms callback is malformed: recipient/,
      },
      {
        name: "bandwidth event without a message",
        provider: "bandwidth",
        request: json(JSON.stringify([{ type: "message-delivered", to: "+1" }])),
        part: /bandwidth event\[0\] is malformed: message/,
      },
      {
        name: "messagebird status report without a recipient",
        provider: "messagebird",
        request: get(`${URL}?${form({ id: "x", status: "delivered" })}`),
        part: /messagebird status report is malformed: recipient/,
      },
      {
        name: "bird outbound event without receiver contacts",
        provider: "messagebird",
        request: json(
          JSON.stringify({
            service: "channels",
            event: "sms.outbound",
            payload: { id: "m", status: "sent", receiver: { contacts: [] } },
          }),
        ),
        part: /messagebird Bird sms\.outbound payload is malformed: receiver/,
      },
      {
        name: "whatsapp status without a recipient",
        provider: "whatsapp",
        request: json(whatsappStatus({ status: "sent", recipient_id: undefined })),
        part: /whatsapp entry\[0\]\.changes\[0\]\.value\.statuses\[0\] is malformed: recipient_id/,
      },
      {
        name: "whatsapp statuses without metadata",
        provider: "whatsapp",
        request: json(
          JSON.stringify({
            object: "whatsapp_business_account",
            entry: [{ id: "1", changes: [{ field: "messages", value: { statuses: [] } }] }],
          }),
        ),
        part: /whatsapp entry\[0\]\.changes\[0\]\.value is malformed: metadata/,
      },
    ],
  )("$name", ({ provider, request, part }) => {
    let error: unknown;
    try {
      parseStatusCallbacks({ provider, request, now: NOW });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: "invalid_input", message: expect.stringMatching(part) });
  });

  it.each([
    { name: "an unknown provider", provider: "carrier-pigeon" },
    { name: "generic, which has no status callbacks", provider: "generic" },
  ])("refuses $name", ({ provider }) => {
    expect(() => parseStatusCallbacks({ provider, request: json("{}"), now: NOW })).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: `unknown provider "${provider}"` }),
    );
  });

  it("throws only DomainError on arbitrary bodies, and whatever it returns is a valid ProviderEvent (property)", () => {
    const bodies = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v) ?? ""),
      fc
        .dictionary(
          fc.constantFrom(
            "MessageSid",
            "MessageStatus",
            "From",
            "To",
            "ErrorCode",
            "Status",
            "MessageUUID",
            "status",
            "msisdn",
            "to",
            "messageId",
            "err-code",
            "id",
            "recipient",
          ),
          fc.string({ maxLength: 12 }),
        )
        .map((d) => form(d)),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...StatusCallbackProvider.options),
        bodies,
        fc.constantFrom("GET", "POST"),
        (provider, body, method) => {
          try {
            const events = parseStatusCallbacks({
              provider,
              request: {
                method,
                url: method === "GET" ? `${URL}?${body}` : URL,
                headers: {},
                body: method === "GET" ? "" : body,
              },
              now: NOW,
            });
            for (const e of events) expect(ProviderEvent.safeParse(e).success).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(DomainError);
          }
        },
      ),
      { numRuns: 600 },
    );
  });
});

describe("parseStatusCallbacks: every string is cleaned for the ledger", () => {
  it.each<{
    name: string;
    provider: StatusCallbackProvider;
    request: ReturnType<typeof post>;
    expected: unknown[];
  }>([
    {
      name: "twilio: NUL in the sid and addresses (a form cannot carry an unpaired surrogate)",
      provider: "twilio",
      request: formPost(
        twilioWith({
          MessageSid: "SM\u00001",
          MessageStatus: "failed",
          ErrorCode: "21610",
          To: "+1555\u0000867",
          From: "+1501\u0000",
        }),
      ),
      expected: [
        optOut({
          address: "+1555867",
          sender: "+1501",
          channel: "sms",
          occurredAt: NOW_ISO,
          providerEventId: "SM1:failed:21610",
          reason: "twilio error 21610 (attempt to send to unsubscribed recipient)",
          messageId: "SM1",
        }),
      ],
    },
    {
      name: "whatsapp: NUL and an unpaired surrogate in the user's ids and the message id",
      provider: "whatsapp",
      request: json(
        whatsappStatus({
          status: "delivered",
          id: "wamid.xyz\uD800xyz",
          biz_opaque_callback_data: '{"optout_message_id":"m\\u0000-1","optout_campaign":"\\u0000"}',
        }),
      ),
      expected: [
        event({
          type: "delivered",
          messageId: "m-1",
          address: "+972987654321",
          sender: "+972123456789",
          channel: "whatsapp",
          occurredAt: "2023-10-25T20:49:05.000Z",
          providerEventId: "wamid.xyzxyz:delivered",
        }),
      ],
    },
    {
      name: "bandwidth: an event whose message id is only NUL names no message and is dropped",
      provider: "bandwidth",
      request: json(bandwidth("message-delivered").replace("14762070468292kw2fuqty55yp2b2", "\\u0000")),
      expected: [],
    },
  ])("$name", ({ provider, request, expected }) => {
    expect(parseStatusCallbacks({ provider, request, now: NOW })).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Status callbacks are signed like each provider's inbound webhooks: verifyWebhook checks them.
// Signers below are written from each provider's docs on node:crypto, independent of src/.
// ---------------------------------------------------------------------------------------------

function twilioSignature(token: string, url: string, params: Record<string, string>): string {
  return hmacB64(
    "sha1",
    token,
    Object.keys(params)
      .sort()
      .reduce((acc, k) => acc + k + params[k], url),
  );
}

function vonageSig(params: Record<string, string>, secret: string): string {
  const data = Object.keys(params)
    .sort()
    .map((k) => `&${k}=${params[k]!.replace(/[&=]/g, "_")}`)
    .join("");
  return createHash("md5")
    .update(data + secret)
    .digest("hex");
}

function plivoV3(token: string, url: string, params: Record<string, string>, nonce: string): string {
  const sorted = Object.keys(params)
    .sort()
    .map((k) => k + params[k])
    .join("");
  return hmacB64("sha256", token, `${url}?${sorted}.${nonce}`);
}

const ed25519 = (() => {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  return { publicKeyBase64: raw.toString("base64"), privateKey };
})();
const otherEd25519 = generateKeyPairSync("ed25519").privateKey;

function telnyxSigned(body: string, timestamp = String(NOW), key = ed25519.privateKey) {
  return post(URL, body, {
    "telnyx-signature-ed25519": sign(null, Buffer.from(`${timestamp}|${body}`), key).toString("base64"),
    "telnyx-timestamp": timestamp,
    "content-type": "application/json",
  });
}

function birdSigned(body: string, key: string, timestamp = String(NOW)) {
  const data = Buffer.concat([
    Buffer.from(`${timestamp}\n${URL}\n`),
    createHash("sha256").update(body).digest(),
  ]);
  return post(URL, body, {
    "messagebird-signature": hmacB64("sha256", key, data),
    "messagebird-request-timestamp": timestamp,
    "content-type": "application/json",
  });
}

function messagebirdJwtGet(url: string, key: string, now = NOW) {
  const token = jwtHs("HS256", key, {
    iss: "MessageBird",
    nbf: now,
    exp: now + 60,
    jti: "5d7a1d2e-1b0a-4a4c-9f3e-0c6f1e2d3a4b",
    url_hash: sha256Hex(url),
  });
  return get(url, { "messagebird-signature-jwt": token });
}

const TWILIO_TOKEN = "12345abcdefauthtoken0000000000ab";
const twilioFailed = { ...TWILIO, MessageStatus: "failed", SmsStatus: "failed", ErrorCode: "21610" };
const vonageSigned = { ...VONAGE_DLR, timestamp: String(NOW), nonce: "7d3a" };
const plivoFailed = { ...PLIVO, Status: "failed", ErrorCode: "200" };
const WA_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const waBody = whatsappStatus({ status: "failed", errors: [{ code: 131050, title: "x" }] });

describe("status callbacks verify with the provider's inbound scheme (verifyWebhook)", () => {
  it.each<{
    name: string;
    provider: StatusCallbackProvider;
    request: ReturnType<typeof post>;
    secret: string;
    options?: { now?: number; algorithm?: string };
    ok: boolean;
  }>([
    {
      name: "twilio: the vector of twilio-python's RequestValidator tests and Twilio's webhook-security docs",
      provider: "twilio",
      request: post(
        "https://mycompany.com/myapp.php?foo=1&bar=2",
        form({
          CallSid: "CA1234567890ABCDE",
          Caller: "+14158675309",
          Digits: "1234",
          From: "+14158675309",
          To: "+18005551212",
        }),
        { "x-twilio-signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8=" },
      ),
      secret: "12345",
      ok: true,
    },
    {
      name: "twilio: a signed 21610 status callback",
      provider: "twilio",
      request: post(URL, form(twilioFailed), {
        "x-twilio-signature": twilioSignature(TWILIO_TOKEN, URL, twilioFailed),
      }),
      secret: TWILIO_TOKEN,
      ok: true,
    },
    {
      name: "twilio: the same, forged with another token",
      provider: "twilio",
      request: post(URL, form(twilioFailed), {
        "x-twilio-signature": twilioSignature("not-it", URL, twilioFailed),
      }),
      secret: TWILIO_TOKEN,
      ok: false,
    },
    {
      name: "twilio: a callback URL's optout_message_id is signed too",
      provider: "twilio",
      request: post(`${URL}?optout_message_id=other`, form(twilioFailed), {
        "x-twilio-signature": twilioSignature(TWILIO_TOKEN, `${URL}?optout_message_id=msg-1`, twilioFailed),
      }),
      secret: TWILIO_TOKEN,
      ok: false,
    },
    {
      name: "vonage: a signed DLR (md5hash)",
      provider: "vonage",
      request: formPost(form({ ...vonageSigned, sig: vonageSig(vonageSigned, "vonage-secret") })),
      secret: "vonage-secret",
      options: { now: NOW },
      ok: true,
    },
    {
      name: "vonage: the signed DLR replayed after 301 s (stale)",
      provider: "vonage",
      request: formPost(form({ ...vonageSigned, sig: vonageSig(vonageSigned, "vonage-secret") })),
      secret: "vonage-secret",
      options: { now: NOW + 301 },
      ok: false,
    },
    {
      name: "vonage: a DLR whose err-code was changed after signing",
      provider: "vonage",
      request: formPost(
        form({ ...vonageSigned, "err-code": "0", sig: vonageSig(vonageSigned, "vonage-secret") }),
      ),
      secret: "vonage-secret",
      options: { now: NOW },
      ok: false,
    },
    {
      name: "vonage: a signed Messages API status (JWT with payload_hash)",
      provider: "vonage",
      request: post(URL, JSON.stringify(VONAGE_MESSAGES), {
        authorization: `Bearer ${jwtHs("HS256", "vonage-secret", { iat: NOW, jti: "j", payload_hash: sha256Hex(JSON.stringify(VONAGE_MESSAGES)) })}`,
        "content-type": "application/json",
      }),
      secret: "vonage-secret",
      options: { now: NOW },
      ok: true,
    },
    {
      name: "plivo: a signed status callback (V3)",
      provider: "plivo",
      request: post(URL, form(plivoFailed), {
        "x-plivo-signature-v3": plivoV3("plivo-token", URL, plivoFailed, "31627761595286130198"),
        "x-plivo-signature-v3-nonce": "31627761595286130198",
      }),
      secret: "plivo-token",
      ok: true,
    },
    {
      name: "plivo: forged with another token",
      provider: "plivo",
      request: post(URL, form(plivoFailed), {
        "x-plivo-signature-v3": plivoV3("not-it", URL, plivoFailed, "31627761595286130198"),
        "x-plivo-signature-v3-nonce": "31627761595286130198",
      }),
      secret: "plivo-token",
      ok: false,
    },
    {
      name: "telnyx: a signed message.finalized (Ed25519)",
      provider: "telnyx",
      request: telnyxSigned(telnyx("message.finalized", "sending_failed", [TELNYX_STOP_ERROR])),
      secret: ed25519.publicKeyBase64,
      options: { now: NOW },
      ok: true,
    },
    {
      name: "telnyx: signed by another key",
      provider: "telnyx",
      request: telnyxSigned(telnyx("message.finalized", "delivered"), String(NOW), otherEd25519),
      secret: ed25519.publicKeyBase64,
      options: { now: NOW },
      ok: false,
    },
    {
      name: "telnyx: stale",
      provider: "telnyx",
      request: telnyxSigned(telnyx("message.finalized", "delivered")),
      secret: ed25519.publicKeyBase64,
      options: { now: NOW + 301 },
      ok: false,
    },
    {
      name: "infobip: a delivery report with the Basic credentials",
      provider: "infobip",
      request: post(URL, infobip(INFOBIP_DELIVERED), { authorization: basic("ib-user:ib-pass") }),
      secret: "ib-user:ib-pass",
      ok: true,
    },
    {
      name: "infobip: wrong password",
      provider: "infobip",
      request: post(URL, infobip(INFOBIP_DELIVERED), { authorization: basic("ib-user:guess") }),
      secret: "ib-user:ib-pass",
      ok: false,
    },
    {
      name: "sinch: a delivery report with the Basic credentials",
      provider: "sinch",
      request: post(URL, sinchRecipient("Delivered", 0), { authorization: basic("sinch:pw") }),
      secret: "sinch:pw",
      ok: true,
    },
    {
      name: "bandwidth: a 4775 callback with the Basic credentials",
      provider: "bandwidth",
      request: post(URL, bandwidth("message-failed", { errorCode: 4775 }), { authorization: basic("bw:pw") }),
      secret: "bw:pw",
      ok: true,
    },
    {
      name: "bandwidth: no credentials",
      provider: "bandwidth",
      request: post(URL, bandwidth("message-failed", { errorCode: 4775 })),
      secret: "bw:pw",
      ok: false,
    },
    {
      name: "messagebird: a status report GET with MessageBird-Signature-JWT",
      provider: "messagebird",
      request: messagebirdJwtGet(`${URL}?${form(MESSAGEBIRD_REPORT)}`, "mb-key"),
      secret: "mb-key",
      options: { now: NOW },
      ok: true,
    },
    {
      name: "messagebird: the JWT of one status report on another's URL",
      provider: "messagebird",
      request: {
        ...messagebirdJwtGet(`${URL}?${form(MESSAGEBIRD_REPORT)}`, "mb-key"),
        url: `${URL}?${form({ ...MESSAGEBIRD_REPORT, status: "delivery_failed" })}`,
      },
      secret: "mb-key",
      options: { now: NOW },
      ok: false,
    },
    {
      name: "bird: a signed sms.outbound event",
      provider: "messagebird",
      request: birdSigned(birdOutbound("delivered"), "bird-key"),
      secret: "bird-key",
      options: { now: NOW },
      ok: true,
    },
    {
      name: "bird: stale",
      provider: "messagebird",
      request: birdSigned(birdOutbound("delivered"), "bird-key"),
      secret: "bird-key",
      options: { now: NOW + 301 },
      ok: false,
    },
    {
      name: "whatsapp: a signed 131050 status",
      provider: "whatsapp",
      request: post(URL, waBody, { "x-hub-signature-256": `sha256=${hmacHex("sha256", WA_SECRET, waBody)}` }),
      secret: WA_SECRET,
      ok: true,
    },
    {
      name: "whatsapp: the same signature over a tampered status",
      provider: "whatsapp",
      request: post(URL, waBody.replace("131050", "131051"), {
        "x-hub-signature-256": `sha256=${hmacHex("sha256", WA_SECRET, waBody)}`,
      }),
      secret: WA_SECRET,
      ok: false,
    },
    {
      name: "whatsapp: a flipped signature digit",
      provider: "whatsapp",
      request: post(URL, waBody, {
        "x-hub-signature-256": tamper(`sha256=${hmacHex("sha256", WA_SECRET, waBody)}`),
      }),
      secret: WA_SECRET,
      ok: false,
    },
  ])("$name", async ({ provider, request, secret, options, ok }) => {
    const r = await verifyWebhook({ provider, request, secret, options });
    expect(r.ok, JSON.stringify(r)).toBe(ok);
  });

  it("a verified callback then parses: the signed 21610 becomes an opt-out from its sender", async () => {
    const request = post(URL, form(twilioFailed), {
      "x-twilio-signature": twilioSignature(TWILIO_TOKEN, URL, twilioFailed),
    });
    expect(await verifyWebhook({ provider: "twilio", request, secret: TWILIO_TOKEN })).toEqual({ ok: true });
    expect(parseStatusCallbacks({ provider: "twilio", request, now: NOW })).toMatchObject([
      { kind: "opt_out", address: "+15558675310", sender: "+15017250604", channel: "sms" },
    ]);
  });
});
