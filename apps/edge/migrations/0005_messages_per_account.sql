-- Message ids are per account (no table references messages, so no foreign-key pragma is needed).
CREATE TABLE `__new_messages` (
	`account_id` text NOT NULL,
	`message_id` text NOT NULL,
	`address` text NOT NULL,
	`sender` text,
	`channel` text NOT NULL,
	`campaign` text,
	`created_at` text NOT NULL,
	PRIMARY KEY(`account_id`, `message_id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_messages`("account_id", "message_id", "address", "sender", "channel", "campaign", "created_at") SELECT "account_id", "message_id", "address", "sender", "channel", "campaign", "created_at" FROM `messages`;--> statement-breakpoint
DROP TABLE `messages`;--> statement-breakpoint
ALTER TABLE `__new_messages` RENAME TO `messages`;
