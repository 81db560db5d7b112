-- 0008: the admin portal's audit log (src/shop/audit.c). Every write made
-- in the portal (and by staff commands) adds one row in the same
-- transaction as the write: who, what, when, from which address, the
-- entity before and after (JSON). Append-only: the triggers refuse any
-- UPDATE or DELETE, so not even a bug in the app can rewrite history.
CREATE TABLE IF NOT EXISTS audit_log (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at          DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  actor_id    BIGINT UNSIGNED NULL,              -- the staff member; NULL for a command line
  actor       VARCHAR(254) NOT NULL,             -- their e-mail at the time, or "cli:<unix user>"
  ip          VARCHAR(45) NOT NULL DEFAULT '',
  action      VARCHAR(60) NOT NULL,              -- "product.update", "order.refund", "user.role", ...
  entity      VARCHAR(40) NOT NULL,              -- "product", "order", "user", ...
  entity_id   VARCHAR(64) NOT NULL DEFAULT '',
  before_json MEDIUMTEXT NULL,
  after_json  MEDIUMTEXT NULL,
  KEY audit_at (at),
  KEY audit_entity (entity, entity_id, at),
  KEY audit_actor (actor_id, at),
  KEY audit_action (action, at),
  CONSTRAINT audit_before_json CHECK (before_json IS NULL OR JSON_VALID(before_json)),
  CONSTRAINT audit_after_json CHECK (after_json IS NULL OR JSON_VALID(after_json))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'the audit log is append-only';
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'the audit log is append-only';
