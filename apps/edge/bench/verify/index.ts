import { type ConsentEvent, verifyChain } from "@optout/core";

/**
 * `@optout/core`'s `verifyChain`, run where core runs (workerd), for the benchmark's scale groups
 * (scale.mjs): core is TypeScript, which the benchmark's Node cannot import, so the benchmark
 * builds this worker with wrangler, as it builds the edge, and posts it one account's ledger
 * events (`GET /v1/changes`, in seq order): `POST /` `{ events }` → the `ChainVerification`.
 * Built and run by the benchmark only, never deployed.
 */
export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method !== "POST") return new Response("POST { events } to verify a chain", { status: 405 });
    const { events } = (await request.json()) as { events: ConsentEvent[] };
    return Response.json(await verifyChain(events));
  },
};
