ALTER TABLE "sync_state" ADD COLUMN "last_error_code" text;--> statement-breakpoint
-- The code of a failure recorded before this column, once, from its text (CODE: message).
UPDATE "sync_state" SET "last_error_code" = substring("last_error" from '^([A-Z][A-Z0-9_]*): ') WHERE "last_error" IS NOT NULL;
