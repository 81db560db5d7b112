-- 0001: bookkeeping the application itself needs.
-- app_meta holds small facts about the database (e.g. which demo catalogue
-- version was seeded), so commands can be idempotent.
CREATE TABLE IF NOT EXISTS app_meta (
  meta_key   VARCHAR(64)  NOT NULL PRIMARY KEY,
  meta_value VARCHAR(255) NOT NULL,
  updated_at DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
