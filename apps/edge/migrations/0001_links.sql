CREATE TABLE `link_settings` (
	`account_id` text PRIMARY KEY NOT NULL,
	`brand_name` text,
	`offer_both_scopes` integer NOT NULL,
	`default_locale` text NOT NULL,
	`code_length` integer NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `links` (
	`code_hash` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`address` text NOT NULL,
	`channel` text NOT NULL,
	`scope_key` text NOT NULL,
	`sender` text,
	`campaign` text,
	`message_id` text,
	`expires_at` text,
	`created_at` text NOT NULL,
	`opted_out_at` text,
	`opt_out_seq` integer,
	`opt_out_scope_key` text,
	`undone_at` text,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
