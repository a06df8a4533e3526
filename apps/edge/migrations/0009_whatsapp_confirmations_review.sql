-- Issue 13 §2, §4, §5: send-API credentials, confirmations owed through send APIs, review decisions.
-- Written to run after 0008 (provider events) whatever it did: it only adds columns to tables
-- 0008 does not rebuild and creates a table of its own.
ALTER TABLE `provider_credentials` ADD `send_secret` text;--> statement-breakpoint
ALTER TABLE `inbound_messages` ADD `decision` text;--> statement-breakpoint
ALTER TABLE `inbound_messages` ADD `decided_at` text;--> statement-breakpoint
CREATE INDEX `inbound_messages_account_pending_review_idx` ON `inbound_messages` (`account_id`,`id`) WHERE "inbound_messages"."review" = 1 AND "inbound_messages"."decision" IS NULL;--> statement-breakpoint
CREATE TABLE `outbound_confirmations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`provider` text NOT NULL,
	`subject` text NOT NULL,
	`address` text NOT NULL,
	`sender` text NOT NULL,
	`text` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text NOT NULL,
	`last_error` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbound_confirmations_account_subject_uq` ON `outbound_confirmations` (`account_id`,`subject`);--> statement-breakpoint
CREATE INDEX `outbound_confirmations_open_idx` ON `outbound_confirmations` (`account_id`,`next_attempt_at`) WHERE "outbound_confirmations"."state" IN ('pending', 'sending');--> statement-breakpoint
CREATE INDEX `outbound_confirmations_updated_idx` ON `outbound_confirmations` (`updated_at`);
