-- 0005: shoppers' accounts (src/shop/accounts.c, src/db/user_repo.c).
-- Sessions live in the durable Redis, not here (src/web/session.c).
CREATE TABLE IF NOT EXISTS users (
  id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email               VARCHAR(254) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL, -- stored lower-case
  email_verified_at   DATETIME     NULL,
  password_hash       VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '', -- Argon2id ($argon2id$...)
  name                VARCHAR(100) NOT NULL DEFAULT '',
  phone               VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NULL,  -- E.164
  phone_verified_at   DATETIME     NULL,
  -- a verified number signs in by SMS, so it belongs to one account only
  verified_phone      VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin
                        AS (IF(phone_verified_at IS NULL, NULL, phone)) PERSISTENT,
  role                ENUM('shopper','staff','superuser') NOT NULL DEFAULT 'shopper',
  status              ENUM('active','disabled','deleted') NOT NULL DEFAULT 'active',
  second_factor       ENUM('none','sms','totp') NOT NULL DEFAULT 'none',
  totp_secret         VARBINARY(128) NULL,   -- sealed (crypto_secretbox) with a key derived from SECRET_KEY
  totp_pending        VARBINARY(128) NULL,   -- during enrolment, until a first code is confirmed
  password_changed_at DATETIME     NULL,
  created_at          DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at          DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  deleted_at          DATETIME     NULL,
  UNIQUE KEY users_email (email),
  UNIQUE KEY users_verified_phone (verified_phone)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Single-use links: only a keyed hash of the token is stored.
CREATE TABLE IF NOT EXISTS user_tokens (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id     BIGINT UNSIGNED NOT NULL,
  purpose     ENUM('verify_email','reset_password') NOT NULL,
  token_hash  CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  expires_at  DATETIME NOT NULL,
  used_at     DATETIME NULL,
  created_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY user_tokens_hash (token_hash),
  KEY user_tokens_user (user_id, purpose),
  CONSTRAINT user_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS recovery_codes (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id     BIGINT UNSIGNED NOT NULL,
  code_hash   CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  used_at     DATETIME NULL,
  UNIQUE KEY recovery_codes_hash (user_id, code_hash),
  CONSTRAINT recovery_codes_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS addresses (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id     BIGINT UNSIGNED NOT NULL,
  full_name   VARCHAR(100) NOT NULL,
  line1       VARCHAR(120) NOT NULL,
  line2       VARCHAR(120) NOT NULL DEFAULT '',
  city        VARCHAR(80)  NOT NULL,
  region      VARCHAR(80)  NOT NULL DEFAULT '',
  postcode    VARCHAR(16)  NOT NULL,
  country     CHAR(2)      CHARACTER SET ascii NOT NULL,   -- ISO 3166-1 alpha-2
  phone       VARCHAR(16)  CHARACTER SET ascii NOT NULL DEFAULT '',
  is_default  TINYINT(1)   NOT NULL DEFAULT 0,
  created_at  DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at  DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  KEY addresses_user (user_id),
  CONSTRAINT addresses_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS saved_sizes (
  user_id   BIGINT UNSIGNED NOT NULL,
  size_key  VARCHAR(12) CHARACTER SET ascii NOT NULL,      -- 'uk-9.5' as in variants.size_key
  PRIMARY KEY (user_id, size_key),
  CONSTRAINT saved_sizes_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS saved_brands (
  user_id   BIGINT UNSIGNED NOT NULL,
  brand_id  INT UNSIGNED NOT NULL,
  PRIMARY KEY (user_id, brand_id),
  CONSTRAINT saved_brands_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT saved_brands_brand_fk FOREIGN KEY (brand_id) REFERENCES brands (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
