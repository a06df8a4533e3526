CREATE TABLE `message_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`message_id` text NOT NULL,
	`type` text NOT NULL,
	`occurred_at` text NOT NULL,
	`recorded_at` text NOT NULL,
	`origin` text NOT NULL,
	`keyword` text,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `message_events_account_message_type_uq` ON `message_events` (`account_id`,`message_id`,`type`);--> statement-breakpoint
CREATE TABLE `messages` (
	`message_id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`address` text NOT NULL,
	`sender` text,
	`channel` text NOT NULL,
	`campaign` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `senders` (
	`account_id` text NOT NULL,
	`sender` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`account_id`, `sender`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `trigger_deadlines` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`rule_id` text NOT NULL,
	`message_id` text NOT NULL,
	`due_at` text NOT NULL,
	`status` text NOT NULL,
	`claim_id` text,
	`claimed_until` text,
	`settled_reason` text,
	`settled_at` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `trigger_deadlines_rule_message_uq` ON `trigger_deadlines` (`rule_id`,`message_id`);--> statement-breakpoint
CREATE INDEX `trigger_deadlines_pending_due_idx` ON `trigger_deadlines` (`due_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `trigger_deadlines_claimed_lease_idx` ON `trigger_deadlines` (`claimed_until`) WHERE status = 'claimed';--> statement-breakpoint
CREATE TABLE `trigger_firings` (
	`rule_id` text NOT NULL,
	`message_id` text NOT NULL,
	`account_id` text NOT NULL,
	`seq` integer NOT NULL,
	`appended` integer NOT NULL,
	`occurred_at` text NOT NULL,
	`fired_at` text NOT NULL,
	PRIMARY KEY(`rule_id`, `message_id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `trigger_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`name` text NOT NULL,
	`trigger_on` text NOT NULL,
	`channel` text NOT NULL,
	`scope_key` text NOT NULL,
	`campaign` text,
	`enabled` integer NOT NULL,
	`created_at` text NOT NULL,
	`deleted_at` text,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `trigger_rules_account_idx` ON `trigger_rules` (`account_id`,`deleted_at`);