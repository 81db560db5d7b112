-- 0007: the bag an order was placed from. A checkout form's key is
-- answered with its order only for the same bag (shop/orders.c): a key seen
-- by someone else cannot open a guest's order.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS cart_id BIGINT UNSIGNED NULL AFTER user_id;
