import { defineConfig } from "drizzle-kit";

// Generates flat `migrations/0000_name.sql` files: the folder `wrangler d1 migrations apply`
// and the tests' `readD1Migrations` read. Apply with wrangler; never `drizzle-kit push`.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema/index.ts",
  out: "./migrations",
});
