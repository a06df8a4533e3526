import { ApiError } from "../lib/errors.ts";
import { readLimitedBytes } from "../lib/read-limited.ts";

/** The largest inbound webhook body accepted. Real MO payloads are a few KiB; batches stay well under. */
export const MAX_WEBHOOK_BYTES = 64 * 1024;

function tooLarge(): ApiError {
  return new ApiError(413, "payload_too_large", `webhook body is larger than ${MAX_WEBHOOK_BYTES} bytes`);
}

/**
 * The raw body as text, exactly as sent: signatures are over these bytes. Refuses a body over
 * the limit by `Content-Length` and by the bytes actually read (the header can lie or be absent),
 * and a body that is not UTF-8 (no provider sends one; repairing it would change signed bytes).
 */
export async function readRawBody(request: Request, limit = MAX_WEBHOOK_BYTES): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge();
  const bytes = await readLimitedBytes(request.body, limit, tooLarge);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new ApiError(400, "invalid_input", "webhook body is not valid UTF-8");
  }
}
