CREATE TABLE `kv_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`kind` text NOT NULL,
	`subject` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `kv_outbox_account_id_idx` ON `kv_outbox` (`account_id`,`id`);--> statement-breakpoint
CREATE INDEX `kv_outbox_created_idx` ON `kv_outbox` (`created_at`);--> statement-breakpoint
CREATE TABLE `writer_guard` (
	`ok` integer NOT NULL,
	CONSTRAINT "writer_assumption_failed" CHECK(ok = 1)
);
--> statement-breakpoint
DROP INDEX `trigger_deadlines_claimed_lease_idx`;--> statement-breakpoint
CREATE INDEX `trigger_deadlines_settled_idx` ON `trigger_deadlines` (`settled_at`) WHERE settled_at IS NOT NULL;--> statement-breakpoint
ALTER TABLE `accounts` ADD `trigger_rules_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `ledger_events` ADD `account_seq` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_events_account_account_seq_uq` ON `ledger_events` (`account_id`,`account_seq`);--> statement-breakpoint
CREATE INDEX `message_events_recorded_idx` ON `message_events` (`recorded_at`);--> statement-breakpoint
CREATE INDEX `messages_created_idx` ON `messages` (`created_at`);--> statement-breakpoint
-- Deadlines are settled by their account's writer now, without claims: give any claimed row back.
UPDATE `trigger_deadlines` SET `status` = 'pending', `claim_id` = NULL, `claimed_until` = NULL WHERE `status` = 'claimed';
