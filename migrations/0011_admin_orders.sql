-- 0011: the admin portal's orders and customers screens (src/db/order_repo.c
-- order_repo_search, src/db/outbox_repo.c outbox_repo_mails).
--
-- Orders are found by the buyer's e-mail address (a prefix of it), newest
-- first; dates use orders_created (0013).
CREATE INDEX IF NOT EXISTS orders_email ON orders (email, created_at);
-- The mails sent about an order: outbox rows whose key ends with
-- ":<order number>" ("order-shipped:SE7K3M9QXD2F", "low-stock:12:SE7K3M9QXD2F",
-- a resent mail's "order-shipped-resend-…:SE7K3M9QXD2F"). The key's last
-- segment as an indexed virtual column, so an order's page finds them
-- without reading the whole outbox.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS key_subject VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin
  AS (SUBSTRING_INDEX(idem_key, ':', -1)) VIRTUAL;
CREATE INDEX IF NOT EXISTS outbox_subject ON outbox (key_subject);
