CREATE SCHEMA "optout";
--> statement-breakpoint
CREATE TABLE "optout"."blocklist_entries" (
	"account_id" text NOT NULL,
	"address" text NOT NULL,
	"channel" text NOT NULL,
	"scope_key" text NOT NULL,
	"active" boolean NOT NULL,
	"source" text NOT NULL,
	"reason" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"seq" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "blocklist_entries_pkey" PRIMARY KEY("account_id","address","channel","scope_key")
);
--> statement-breakpoint
CREATE TABLE "optout"."chain_heads" (
	"account_id" text PRIMARY KEY NOT NULL,
	"last_seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "optout"."ledger_events" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"account_id" text NOT NULL,
	"address" text NOT NULL,
	"channel" text NOT NULL,
	"scope" jsonb NOT NULL,
	"scope_key" text NOT NULL,
	"action" text NOT NULL,
	"source" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	"evidence" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "optout"."sync_cursor" (
	"name" text PRIMARY KEY NOT NULL,
	"last_seq" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "ledger_events_account_address_idx" ON "optout"."ledger_events" USING btree ("account_id","address","seq");--> statement-breakpoint
CREATE INDEX "ledger_events_account_seq_idx" ON "optout"."ledger_events" USING btree ("account_id","seq");--> statement-breakpoint
CREATE INDEX "ledger_events_id_idx" ON "optout"."ledger_events" USING btree ("id");