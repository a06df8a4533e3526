import { createApp } from "./lib/create-app.ts";
import { registerDocs } from "./routes/docs/index.ts";
import { routers } from "./routes/index.ts";

const app = createApp();
for (const router of routers) app.route("/", router);
registerDocs(app);

export default app;
