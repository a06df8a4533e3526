/** One casing rule for the ORM and drizzle-kit: camelCase in TypeScript, snake_case in SQL. */
export const CASING = "snake_case" as const;

/** Our migrations journal, apart from any drizzle journal the operator's own app keeps. */
export const MIGRATIONS = {
  migrationsSchema: "drizzle",
  migrationsTable: "__optout_sync_migrations",
} as const;
