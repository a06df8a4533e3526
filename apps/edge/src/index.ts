import { createApp } from "./lib/create-app.ts";
import { registerDocs } from "./routes/docs/index.ts";
import { routers } from "./routes/index.ts";
import { handleScheduled } from "./triggers/cron.ts";

export { LedgerWriter } from "./writer/ledger-writer.ts";

const app = createApp();
for (const router of routers) app.route("/", router);
registerDocs(app);

/** The Worker: hono answers requests; the Cron Trigger settles due trigger deadlines. */
export default {
  fetch: app.fetch,
  /** hono's in-process request helper, for tests. */
  request: app.request,
  async scheduled(controller, env, _ctx) {
    await handleScheduled(controller, env);
  },
} satisfies ExportedHandler<Env> & Pick<typeof app, "request">;
