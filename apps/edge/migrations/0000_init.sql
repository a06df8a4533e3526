CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`default_region` text,
	`key_mode` text NOT NULL,
	`ledger_head_hash` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`key_hash` text NOT NULL,
	`key_prefix` text NOT NULL,
	`created_at` text NOT NULL,
	`revoked_at` text,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_uq` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_account_idx` ON `api_keys` (`account_id`);--> statement-breakpoint
CREATE TABLE `blocklist_entries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`address` text NOT NULL,
	`channel` text NOT NULL,
	`scope_key` text NOT NULL,
	`active` integer NOT NULL,
	`source` text NOT NULL,
	`reason` text,
	`occurred_at` text NOT NULL,
	`seq` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `blocklist_entries_identity_uq` ON `blocklist_entries` (`account_id`,`address`,`channel`,`scope_key`);--> statement-breakpoint
CREATE INDEX `blocklist_entries_account_active_id_idx` ON `blocklist_entries` (`account_id`,`active`,`id`);--> statement-breakpoint
CREATE TABLE `ledger_events` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`account_id` text NOT NULL,
	`address` text NOT NULL,
	`channel` text NOT NULL,
	`scope_key` text NOT NULL,
	`action` text NOT NULL,
	`source` text NOT NULL,
	`occurred_at` text NOT NULL,
	`recorded_at` text NOT NULL,
	`evidence` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_events_id_uq` ON `ledger_events` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_events_account_prev_hash_uq` ON `ledger_events` (`account_id`,`prev_hash`);--> statement-breakpoint
CREATE INDEX `ledger_events_account_seq_idx` ON `ledger_events` (`account_id`,`seq`);--> statement-breakpoint
CREATE INDEX `ledger_events_account_address_seq_idx` ON `ledger_events` (`account_id`,`address`,`seq`);--> statement-breakpoint
CREATE TABLE `sync_applied` (
	`change_id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`applied` integer NOT NULL,
	`recorded_at` text NOT NULL
);
