CREATE TABLE `inbound_messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`provider` text NOT NULL,
	`provider_message_id` text NOT NULL,
	`address` text NOT NULL,
	`sender` text NOT NULL,
	`action` text NOT NULL,
	`rule_id` text,
	`keyword` text,
	`language` text,
	`review` integer NOT NULL,
	`text` text,
	`seqs` text NOT NULL,
	`received_at` text NOT NULL,
	`recorded_at` text NOT NULL,
	`deliveries` integer DEFAULT 1 NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "inbound_messages_recorded_once" CHECK("inbound_messages"."deliveries" = 1)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inbound_messages_account_provider_message_uq` ON `inbound_messages` (`account_id`,`provider`,`provider_message_id`);--> statement-breakpoint
CREATE INDEX `inbound_messages_account_review_id_idx` ON `inbound_messages` (`account_id`,`review`,`id`);--> statement-breakpoint
CREATE TABLE `keyword_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`definition` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `keyword_rules_account_created_idx` ON `keyword_rules` (`account_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `keyword_settings` (
	`account_id` text PRIMARY KEY NOT NULL,
	`default_level` text NOT NULL,
	`languages` text,
	`support_contact` text,
	`disabled_defaults` text NOT NULL,
	`rules_version` integer NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `provider_credentials` (
	`account_id` text NOT NULL,
	`provider` text NOT NULL,
	`secret` text NOT NULL,
	`options` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`account_id`, `provider`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
