import { findUnstorableText } from "@optout/core";
import { createMiddleware } from "hono/factory";
import { ApiError } from "./errors.ts";
import { readLimitedBytes } from "./read-limited.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Runs before a JSON route's validator. Rejects a wrong Content-Type (415), a body over 1 MiB
 * (413, by Content-Length and by the bytes actually read: the header can lie or be absent),
 * malformed JSON (400 malformed_json), and — with `storable` — text the ledger cannot carry (400
 * invalid_input naming the field: NUL or an unpaired surrogate, which PostgreSQL cannot hold, so
 * one tenant's stray byte would stop the sync daemon for everyone; see core `textProblem`). On any
 * of these nothing downstream runs, so nothing is written.
 */
function jsonBodyMiddleware(options: { storable: boolean }) {
  return createMiddleware(async (c, next) => {
    const mediaType = c.req.header("content-type")?.split(";")[0]?.trim() ?? "";
    if (!JSON_MEDIA_TYPE.test(mediaType)) {
      throw new ApiError(415, "unsupported_media_type", "Content-Type must be application/json");
    }
    const declared = c.req.header("content-length");
    if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) throw tooLarge();

    const text = await readLimited(c.req.raw.body, MAX_BODY_BYTES);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ApiError(400, "malformed_json", "request body is not valid JSON");
    }
    if (options.storable) {
      const unstorable = findUnstorableText(parsed);
      if (unstorable) throw new ApiError(400, "invalid_input", `${unstorable.path}: ${unstorable.problem}`);
    }
    // The stream is consumed; hand the validator a request carrying exactly the checked text.
    c.req.raw = new Request(c.req.raw, { body: text });
    await next();
  });
}

/** For every route that may write: its text must be text the ledger can carry. */
export const jsonBody = jsonBodyMiddleware({ storable: true });

/**
 * For routes that only read (a check, verifying a kept copy of evidence): they store nothing, and
 * a copy of an event recorded before the edge refused such text must still be verifiable.
 */
export const readOnlyJsonBody = jsonBodyMiddleware({ storable: false });

function tooLarge(): ApiError {
  return new ApiError(413, "payload_too_large", `request body is larger than ${MAX_BODY_BYTES} bytes`);
}

async function readLimited(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string> {
  const bytes = await readLimitedBytes(body, limit, tooLarge);
  // fatal: invalid UTF-8 is malformed input, not something to repair silently.
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError(400, "malformed_json", "request body is not valid UTF-8");
  }
}
