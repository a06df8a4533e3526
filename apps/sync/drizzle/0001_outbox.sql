CREATE TABLE "optout"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"change_id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"account_id" text NOT NULL,
	"address" text NOT NULL,
	"channel" text DEFAULT '*' NOT NULL,
	"scope" jsonb DEFAULT '{"type":"account"}'::jsonb NOT NULL,
	"action" text NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"edge_seq" bigint,
	"applied_seq" bigint,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"rejected_at" timestamp with time zone,
	CONSTRAINT "outbox_action_check" CHECK (action in ('opt_out', 'opt_in'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_change_id_idx" ON "optout"."outbox" USING btree ("change_id");--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "optout"."outbox" USING btree ("id") WHERE sent_at is null and rejected_at is null;