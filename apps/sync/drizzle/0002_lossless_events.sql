ALTER TABLE "optout"."ledger_events" ADD COLUMN "account_seq" bigint;--> statement-breakpoint
ALTER TABLE "optout"."ledger_events" ADD COLUMN "exact_event" json;