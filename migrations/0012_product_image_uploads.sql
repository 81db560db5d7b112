-- 0012: product images uploaded through the admin portal
-- (src/shop/product_images.c). An upload is re-encoded into two WebP
-- renditions under MEDIA_DIR/images/: `url` is the large one (1200 × 900 box,
-- the product page's gallery), `card_url` the small one (600 × 450, listing
-- cards). Rows from the demo seed have no card rendition ('').
ALTER TABLE product_images ADD COLUMN IF NOT EXISTS card_url VARCHAR(255) NOT NULL DEFAULT '' AFTER url;

-- A product's card shows its first image (position, id): its card rendition
-- when it has one. Same triggers as 0003, with that one change.
CREATE OR REPLACE TRIGGER product_images_listing_ai AFTER INSERT ON product_images FOR EACH ROW
  UPDATE products p SET
    p.card_image_url = COALESCE((SELECT IF(i.card_url <> '', i.card_url, i.url) FROM product_images i
                                 WHERE i.product_id = p.id ORDER BY i.position, i.id LIMIT 1), ''),
    p.card_image_alt = COALESCE((SELECT i.alt FROM product_images i WHERE i.product_id = p.id
                                 ORDER BY i.position, i.id LIMIT 1), ''),
    p.updated_at = p.updated_at
  WHERE p.id = NEW.product_id;

CREATE OR REPLACE TRIGGER product_images_listing_au AFTER UPDATE ON product_images FOR EACH ROW
  UPDATE products p SET
    p.card_image_url = COALESCE((SELECT IF(i.card_url <> '', i.card_url, i.url) FROM product_images i
                                 WHERE i.product_id = p.id ORDER BY i.position, i.id LIMIT 1), ''),
    p.card_image_alt = COALESCE((SELECT i.alt FROM product_images i WHERE i.product_id = p.id
                                 ORDER BY i.position, i.id LIMIT 1), ''),
    p.updated_at = p.updated_at
  WHERE p.id IN (NEW.product_id, OLD.product_id);

CREATE OR REPLACE TRIGGER product_images_listing_ad AFTER DELETE ON product_images FOR EACH ROW
  UPDATE products p SET
    p.card_image_url = COALESCE((SELECT IF(i.card_url <> '', i.card_url, i.url) FROM product_images i
                                 WHERE i.product_id = p.id ORDER BY i.position, i.id LIMIT 1), ''),
    p.card_image_alt = COALESCE((SELECT i.alt FROM product_images i WHERE i.product_id = p.id
                                 ORDER BY i.position, i.id LIMIT 1), ''),
    p.updated_at = p.updated_at
  WHERE p.id = OLD.product_id;
