CREATE TABLE `provider_event_receipts` (
	`account_id` text NOT NULL,
	`provider` text NOT NULL,
	`receipt_id` text NOT NULL,
	`fingerprint` text,
	`recorded_at` text NOT NULL,
	PRIMARY KEY(`account_id`, `provider`, `receipt_id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `provider_event_receipts_recorded_idx` ON `provider_event_receipts` (`recorded_at`);