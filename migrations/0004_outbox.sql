-- 0004: the transactional outbox (src/jobs/outbox.c).
-- Work born inside a transaction (a sign-up's verification mail, an order's
-- confirmation) is written here in that same transaction; a relay in
-- `shoease worker` moves committed rows to the job queue in the durable
-- Redis. A row is finished only when its job has run (or was dead-lettered);
-- the relay sends again what stays unfinished past OUTBOX_RESEND_SECONDS, and
-- the job's idempotency key (idem_key, unique) makes a second send harmless.
CREATE TABLE IF NOT EXISTS outbox (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  job_type     VARCHAR(64)  NOT NULL,
  idem_key     VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  payload      MEDIUMTEXT   NOT NULL,
  created_at   DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  available_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  sent_at      DATETIME(6)  NULL,
  send_count   INT UNSIGNED NOT NULL DEFAULT 0,
  finished_at  DATETIME(6)  NULL,
  outcome      ENUM('done', 'dead') NULL,
  UNIQUE KEY outbox_key (idem_key),
  KEY outbox_pending (finished_at, sent_at),
  CONSTRAINT outbox_payload_json CHECK (JSON_VALID(payload))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
