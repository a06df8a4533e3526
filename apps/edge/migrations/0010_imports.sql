CREATE TABLE `imports` (
	`account_id` text NOT NULL,
	`digest` text NOT NULL,
	`format` text NOT NULL,
	`status` text NOT NULL,
	`rows_done` integer DEFAULT 0 NOT NULL,
	`prefix_digest` text DEFAULT '' NOT NULL,
	`imported` integer DEFAULT 0 NOT NULL,
	`unchanged` integer DEFAULT 0 NOT NULL,
	`superseded` integer DEFAULT 0 NOT NULL,
	`refused` integer DEFAULT 0 NOT NULL,
	`refusals` text DEFAULT '[]' NOT NULL,
	`ignored_columns` text DEFAULT '[]' NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`completed_at` text,
	PRIMARY KEY(`account_id`, `digest`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
