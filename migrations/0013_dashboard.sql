-- 0013: indexes for the admin dashboard (src/db/dashboard_repo.c), so its
-- figures read only what they show, however many orders the shop has made.
--
-- Orders of a date range: revenue per day, counts, top products. Covering
-- (created_at, status, currency, total): the daily figures are read from the
-- index alone; top products go from here to order_lines by order_id.
CREATE INDEX IF NOT EXISTS orders_created ON orders (created_at, status, currency, total);
-- Low-stock and sold-out variants (stock <= 3): a range of this index
-- instead of a scan of every variant.
CREATE INDEX IF NOT EXISTS idx_variants_stock ON variants (stock, product_id);
