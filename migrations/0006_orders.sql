-- 0006: carts, orders, payments (src/shop/cart.c, orders.c, payments.c).
-- Money is BIGINT minor units everywhere; an order keeps a snapshot of what
-- was bought (names, sizes, prices, the address) so later catalogue edits
-- never change it.

-- A cart: a guest's (bound to their session by public_id) or a shopper's.
CREATE TABLE IF NOT EXISTS carts (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  public_id   CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,  -- random, kept in the session
  user_id     BIGINT UNSIGNED NULL,
  status      ENUM('open','merged','ordered') NOT NULL DEFAULT 'open',
  created_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  -- at most one open cart per shopper
  open_user_id BIGINT UNSIGNED AS (IF(status = 'open', user_id, NULL)) PERSISTENT,
  -- (no foreign key on user_id: MariaDB refuses one under a generated
  -- column; users are anonymised, never deleted, so it cannot dangle)
  UNIQUE KEY carts_public (public_id),
  UNIQUE KEY carts_open_user (open_user_id),
  KEY carts_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS cart_lines (
  cart_id         BIGINT UNSIGNED NOT NULL,
  variant_id      INT UNSIGNED NOT NULL,
  quantity        INT UNSIGNED NOT NULL,
  saved_for_later TINYINT(1) NOT NULL DEFAULT 0,
  price_at_add    BIGINT NOT NULL,          -- the unit price when added ("was £X, now £Y")
  restored        TINYINT(1) NOT NULL DEFAULT 0,  -- brought back from an older cart at sign-in
  added_at        DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (cart_id, variant_id),
  CONSTRAINT cart_lines_cart_fk FOREIGN KEY (cart_id) REFERENCES carts (id) ON DELETE CASCADE,
  CONSTRAINT cart_lines_variant_fk FOREIGN KEY (variant_id) REFERENCES variants (id) ON DELETE CASCADE,
  CONSTRAINT cart_lines_quantity CHECK (quantity BETWEEN 1 AND 10)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS orders (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  number           CHAR(12) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,   -- "SE7K3M9QXD2F": random, not sequential
  user_id          BIGINT UNSIGNED NULL,                                       -- NULL: a guest (or a deleted account)
  email            VARCHAR(254) NOT NULL,
  status           ENUM('pending_payment','paid','cod_confirmed','shipped','delivered','cancelled','refunded')
                     NOT NULL,
  payment_method   ENUM('cod','card') NOT NULL,
  currency         CHAR(3) CHARACTER SET ascii NOT NULL,
  subtotal         BIGINT NOT NULL,     -- lines, tax included
  shipping         BIGINT NOT NULL,     -- tax included
  tax              BIGINT NOT NULL,     -- the VAT inside subtotal + shipping
  total            BIGINT NOT NULL,     -- subtotal + shipping
  shipping_method  ENUM('standard','express') NOT NULL,
  ship_name        VARCHAR(100) NOT NULL,
  ship_line1       VARCHAR(120) NOT NULL,
  ship_line2       VARCHAR(120) NOT NULL DEFAULT '',
  ship_city        VARCHAR(80)  NOT NULL,
  ship_region      VARCHAR(80)  NOT NULL DEFAULT '',
  ship_postcode    VARCHAR(16)  NOT NULL,
  ship_country     CHAR(2) CHARACTER SET ascii NOT NULL,
  ship_phone       VARCHAR(16)  NOT NULL DEFAULT '',
  idempotency_key  CHAR(43) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,   -- the checkout form's key
  access_hash      CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,   -- keyed hash of the guest link token
  expires_at       DATETIME NULL,       -- an unpaid card order is cancelled after this
  created_at       DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at       DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY orders_number (number),
  UNIQUE KEY orders_idempotency (idempotency_key),
  KEY orders_user (user_id, created_at),
  KEY orders_status (status, expires_at),
  CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT orders_total CHECK (total = subtotal + shipping AND total >= 0 AND tax >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS order_lines (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id      BIGINT UNSIGNED NOT NULL,
  variant_id    INT UNSIGNED NULL,        -- NULL if the variant was deleted later
  product_id    INT UNSIGNED NULL,
  sku           VARCHAR(64) NOT NULL,
  product_name  VARCHAR(160) NOT NULL,
  product_slug  VARCHAR(120) NOT NULL,
  brand_name    VARCHAR(80) NOT NULL,
  size_label    VARCHAR(16) NOT NULL,
  colour_name   VARCHAR(40) NOT NULL,
  unit_price    BIGINT NOT NULL,          -- tax included
  quantity      INT UNSIGNED NOT NULL,
  line_total    BIGINT NOT NULL,
  tax_rate_bp   INT UNSIGNED NOT NULL,    -- basis points: 2000 = 20 %
  tax           BIGINT NOT NULL,
  KEY order_lines_order (order_id),
  KEY order_lines_variant (variant_id),
  CONSTRAINT order_lines_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
  CONSTRAINT order_lines_variant_fk FOREIGN KEY (variant_id) REFERENCES variants (id) ON DELETE SET NULL,
  CONSTRAINT order_lines_quantity CHECK (quantity >= 1),
  CONSTRAINT order_lines_total CHECK (line_total = unit_price * quantity)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS payments (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id        BIGINT UNSIGNED NOT NULL,
  provider        ENUM('cod','stripe') NOT NULL,
  provider_ref    VARCHAR(100) CHARACTER SET ascii NULL,   -- the PaymentIntent id
  client_secret   VARCHAR(200) CHARACTER SET ascii NULL,   -- for the card page (Stripe.js)
  amount          BIGINT NOT NULL,
  currency        CHAR(3) CHARACTER SET ascii NOT NULL,
  status          ENUM('pending','succeeded','failed','cancelled','refunded') NOT NULL,
  refunded_amount BIGINT NOT NULL DEFAULT 0,
  created_at      DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at      DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY payments_ref (provider, provider_ref),
  KEY payments_order (order_id),
  CONSTRAINT payments_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every state change of an order: who, when, from, to.
CREATE TABLE IF NOT EXISTS order_events (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id    BIGINT UNSIGNED NOT NULL,
  from_status VARCHAR(20) NULL,
  to_status   VARCHAR(20) NOT NULL,
  actor       VARCHAR(60) NOT NULL,       -- "shopper", "guest", "system", "webhook", "staff:<id>", "cli"
  note        VARCHAR(255) NOT NULL DEFAULT '',
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY order_events_order (order_id, id),
  CONSTRAINT order_events_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Payment webhooks handled, by the provider's event id: each exactly once.
CREATE TABLE IF NOT EXISTS webhook_events (
  provider     VARCHAR(20) CHARACTER SET ascii NOT NULL,
  event_id     VARCHAR(100) CHARACTER SET ascii NOT NULL,
  type         VARCHAR(100) NOT NULL,
  received_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (provider, event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Units sold, for "most popular" and the dashboard.
ALTER TABLE products ADD COLUMN IF NOT EXISTS sold_count INT UNSIGNED NOT NULL DEFAULT 0;
-- VAT class of a product (rates in TAX_RATES): children's shoes are
-- zero-rated in the UK, everything else standard.
ALTER TABLE products ADD COLUMN IF NOT EXISTS tax_class ENUM('standard','reduced','zero') NOT NULL DEFAULT 'standard';
UPDATE products SET tax_class = 'zero' WHERE gender = 'kids' AND tax_class = 'standard';
