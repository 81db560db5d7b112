-- 0003: what a listing needs to know about a product's variants and
-- images, kept on the product row. A listing then reads one row per
-- product (the facets are counted from these rows in shop/catalog.c)
-- instead of grouping every variant once per facet.
--
--   stock_sizes     the distinct size_key values of the product's variants
--                   with stock > 0, comma separated, in no particular
--                   order ('uk-10,uk-7,uk-8.5'); '' = nothing in stock
--   colour_ids      the distinct colour ids of all its variants, stock or
--                   not ('3,7,11'): the colours the colour filter, the
--                   colour facet and a card's swatches count
--   card_image_url  the first image (by position, id): url and alt, ''
--   card_image_alt  when the product has no image
--
-- Only the triggers below write them, inside the statement (and so the
-- transaction) that changes a variant or an image: a stock change, a new
-- or deleted variant or image. No writer has to remember to. They set
-- updated_at to itself: a stock change is not an edit of the product.
-- (Rows deleted by ON DELETE CASCADE fire no triggers; their product is
-- being deleted anyway.)
--
-- VARCHAR, not TEXT: a listing reads these for every product it matches,
-- and TEXT columns cost more to read and send. 2000 ASCII characters hold
-- about 300 sizes; a product never comes near that.
--
-- Re-runnable like 0002: ADD COLUMN IF NOT EXISTS, CREATE TRIGGER IF NOT
-- EXISTS, and the back-fill UPDATE computes the same values every time.

ALTER TABLE products
  ADD COLUMN IF NOT EXISTS stock_sizes    VARCHAR(2000) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS colour_ids     VARCHAR(1000) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS card_image_url VARCHAR(255) NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS card_image_alt VARCHAR(255) NOT NULL DEFAULT '';

-- A new variant can only add to the lists: append its size (when in
-- stock) and colour unless they are there already, and touch the product
-- row only then. (Recomputing the lists, as the other triggers do, made
-- loading the demo catalogue three times slower.) The lists are sets: their
-- order means nothing.
CREATE TRIGGER IF NOT EXISTS variants_listing_ai AFTER INSERT ON variants FOR EACH ROW
  UPDATE products p SET
    p.stock_sizes = IF(NEW.stock > 0 AND FIND_IN_SET(NEW.size_key, p.stock_sizes) = 0,
                       CONCAT_WS(',', NULLIF(p.stock_sizes, ''), NEW.size_key), p.stock_sizes),
    p.colour_ids = IF(FIND_IN_SET(NEW.colour_id, p.colour_ids) = 0,
                      CONCAT_WS(',', NULLIF(p.colour_ids, ''), NEW.colour_id), p.colour_ids),
    p.updated_at = p.updated_at
  WHERE p.id = NEW.product_id
    AND ((NEW.stock > 0 AND FIND_IN_SET(NEW.size_key, p.stock_sizes) = 0)
         OR FIND_IN_SET(NEW.colour_id, p.colour_ids) = 0);

-- Only when something the columns depend on changed: a stock level that
-- stays above zero (or at zero) changes nothing here.
CREATE TRIGGER IF NOT EXISTS variants_listing_au AFTER UPDATE ON variants FOR EACH ROW
  UPDATE products p SET
    p.stock_sizes = COALESCE((SELECT GROUP_CONCAT(DISTINCT v.size_key ORDER BY v.size_key SEPARATOR ',')
                              FROM variants v WHERE v.product_id = p.id AND v.stock > 0), ''),
    p.colour_ids = COALESCE((SELECT GROUP_CONCAT(DISTINCT v.colour_id ORDER BY v.colour_id SEPARATOR ',')
                             FROM variants v WHERE v.product_id = p.id), ''),
    p.updated_at = p.updated_at
  WHERE p.id IN (NEW.product_id, OLD.product_id)
    AND NOT (NEW.product_id <=> OLD.product_id AND NEW.colour_id <=> OLD.colour_id
             AND NEW.size_system <=> OLD.size_system AND NEW.size_value <=> OLD.size_value
             AND (NEW.stock > 0) <=> (OLD.stock > 0));

CREATE TRIGGER IF NOT EXISTS variants_listing_ad AFTER DELETE ON variants FOR EACH ROW
  UPDATE products p SET
    p.stock_sizes = COALESCE((SELECT GROUP_CONCAT(DISTINCT v.size_key ORDER BY v.size_key SEPARATOR ',')
                              FROM variants v WHERE v.product_id = p.id AND v.stock > 0), ''),
    p.colour_ids = COALESCE((SELECT GROUP_CONCAT(DISTINCT v.colour_id ORDER BY v.colour_id SEPARATOR ',')
                             FROM variants v WHERE v.product_id = p.id), ''),
    p.updated_at = p.updated_at
  WHERE p.id = OLD.product_id;

CREATE TRIGGER IF NOT EXISTS product_images_listing_ai AFTER INSERT ON product_images FOR EACH ROW
  UPDATE products p SET
    p.card_image_url = COALESCE((SELECT i.url FROM product_images i WHERE i.product_id = p.id
                                 ORDER BY i.position, i.id LIMIT 1), ''),
    p.card_image_alt = COALESCE((SELECT i.alt FROM product_images i WHERE i.product_id = p.id
                                 ORDER BY i.position, i.id LIMIT 1), ''),
    p.updated_at = p.updated_at
  WHERE p.id = NEW.product_id;

CREATE TRIGGER IF NOT EXISTS product_images_listing_au AFTER UPDATE ON product_images FOR EACH ROW
  UPDATE products p SET
    p.card_image_url = COALESCE((SELECT i.url FROM product_images i WHERE i.product_id = p.id
                                 ORDER BY i.position, i.id LIMIT 1), ''),
    p.card_image_alt = COALESCE((SELECT i.alt FROM product_images i WHERE i.product_id = p.id
                                 ORDER BY i.position, i.id LIMIT 1), ''),
    p.updated_at = p.updated_at
  WHERE p.id IN (NEW.product_id, OLD.product_id);

CREATE TRIGGER IF NOT EXISTS product_images_listing_ad AFTER DELETE ON product_images FOR EACH ROW
  UPDATE products p SET
    p.card_image_url = COALESCE((SELECT i.url FROM product_images i WHERE i.product_id = p.id
                                 ORDER BY i.position, i.id LIMIT 1), ''),
    p.card_image_alt = COALESCE((SELECT i.alt FROM product_images i WHERE i.product_id = p.id
                                 ORDER BY i.position, i.id LIMIT 1), ''),
    p.updated_at = p.updated_at
  WHERE p.id = OLD.product_id;

-- Back-fill the rows that existed before the triggers.
UPDATE products p SET
  p.stock_sizes = COALESCE((SELECT GROUP_CONCAT(DISTINCT v.size_key ORDER BY v.size_key SEPARATOR ',')
                            FROM variants v WHERE v.product_id = p.id AND v.stock > 0), ''),
  p.colour_ids = COALESCE((SELECT GROUP_CONCAT(DISTINCT v.colour_id ORDER BY v.colour_id SEPARATOR ',')
                           FROM variants v WHERE v.product_id = p.id), ''),
  p.card_image_url = COALESCE((SELECT i.url FROM product_images i WHERE i.product_id = p.id
                               ORDER BY i.position, i.id LIMIT 1), ''),
  p.card_image_alt = COALESCE((SELECT i.alt FROM product_images i WHERE i.product_id = p.id
                               ORDER BY i.position, i.id LIMIT 1), ''),
  p.updated_at = p.updated_at;
