import { defineConfig } from "drizzle-kit";
import { CASING, MIGRATIONS } from "./src/db/casing.ts";

// Generate migrations with `pnpm db:generate`; the daemon applies them with migrate() at start.
// Never `drizzle-kit push`: the migrations folder is the schema's history.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./drizzle",
  casing: CASING,
  schemaFilter: ["optout"],
  migrations: { schema: MIGRATIONS.migrationsSchema, table: MIGRATIONS.migrationsTable },
});
