-- 0009: the admin portal's catalogue screens (src/shop/product_admin.c,
-- src/db/product_admin_repo.c): a version per product for concurrent
-- edits, the old addresses of renamed products, and a history of stock
-- adjustments per variant.
--
-- Re-runnable like the others: ADD COLUMN IF NOT EXISTS, CREATE TABLE IF
-- NOT EXISTS.

-- Every save of a product by staff (the edit form, a price set from the
-- command line, a bulk (de)activation) adds one. The edit form carries the
-- version it showed; a save whose version is no longer the row's is
-- refused instead of silently overwriting what someone else saved. Sales
-- (sold_count, popularity), ratings and stock are not edits: they leave it.
ALTER TABLE products ADD COLUMN IF NOT EXISTS version INT UNSIGNED NOT NULL DEFAULT 1;

-- A product's earlier slugs: /products/<old_slug> (and the API's
-- /api/v1/products/<old_slug>) answer 301 to the product's CURRENT slug,
-- so a chain of renames needs no chain of redirects. A slug that a product
-- takes (new or renamed) is removed from here in the same transaction: a
-- live product always wins over an old address.
CREATE TABLE IF NOT EXISTS product_slug_redirects (
  old_slug    VARCHAR(120) NOT NULL PRIMARY KEY,
  product_id  INT UNSIGNED NOT NULL,
  created_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY product_slug_redirects_product (product_id),
  CONSTRAINT product_slug_redirects_product_fk FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
  CONSTRAINT product_slug_redirects_slug CHECK (old_slug REGEXP '^[a-z0-9]+(-[a-z0-9]+)*$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Stock changed by hand (the portal's adjustments and size grid, `shoease
-- product set-stock`, a new size run's first stock), one row per variant
-- and change, written in the same transaction as the change. Sales and
-- cancellations are the orders' (order_lines, order_events), not here.
CREATE TABLE IF NOT EXISTS stock_adjustments (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  variant_id    INT UNSIGNED NOT NULL,
  at            DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  reason        ENUM('received','damaged','recount','returned','correction') NOT NULL,
  delta         INT NOT NULL,
  stock_before  INT UNSIGNED NOT NULL,
  stock_after   INT UNSIGNED NOT NULL,
  note          VARCHAR(255) NOT NULL DEFAULT '',
  actor_id      BIGINT UNSIGNED NULL,              -- the staff member; NULL for a command line
  actor         VARCHAR(254) NOT NULL,             -- their e-mail at the time, or "cli:<unix user>"
  KEY stock_adjustments_variant (variant_id, at),
  CONSTRAINT stock_adjustments_variant_fk FOREIGN KEY (variant_id) REFERENCES variants (id) ON DELETE CASCADE,
  CONSTRAINT stock_adjustments_delta CHECK (CAST(stock_after AS SIGNED) - CAST(stock_before AS SIGNED) = delta)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
