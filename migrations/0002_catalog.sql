-- 0002: the catalogue — categories (a tree), brands, colours, products,
-- variants (one SKU per product × colour × size × width), images, reviews.
--
-- Re-runnable: every statement is CREATE ... IF NOT EXISTS, because MariaDB
-- commits DDL implicitly and a half-applied migration is completed by
-- running it again. All SQL against these tables lives in
-- src/db/catalog_repo.c (and the demo generator in src/shop/demo_catalog.c).
--
-- Money is BIGINT in minor units (pence, cents) plus a currency code; a
-- float never holds money.

-- Categories form a tree of any depth (Men → Running, slug men-running).
-- Listing a category includes its whole subtree (a recursive CTE in the
-- repository walks parent_id).
CREATE TABLE IF NOT EXISTS categories (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  parent_id   INT UNSIGNED NULL,
  slug        VARCHAR(80)  NOT NULL,
  name        VARCHAR(80)  NOT NULL,
  position    INT          NOT NULL DEFAULT 0,
  UNIQUE KEY uq_categories_slug (slug),
  KEY idx_categories_parent (parent_id, position),
  CONSTRAINT fk_categories_parent FOREIGN KEY (parent_id) REFERENCES categories (id)
    ON DELETE RESTRICT ON UPDATE CASCADE,
  CONSTRAINT ck_categories_slug CHECK (slug REGEXP '^[a-z0-9]+(-[a-z0-9]+)*$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS brands (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  slug        VARCHAR(80)  NOT NULL,
  name        VARCHAR(80)  NOT NULL,
  UNIQUE KEY uq_brands_slug (slug),
  KEY idx_brands_name (name),
  CONSTRAINT ck_brands_slug CHECK (slug REGEXP '^[a-z0-9]+(-[a-z0-9]+)*$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS colours (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  slug        VARCHAR(40)  NOT NULL,
  name        VARCHAR(40)  NOT NULL,
  hex         CHAR(7)      NOT NULL,           -- '#1f2a44'
  position    INT          NOT NULL DEFAULT 0, -- order in swatches and facets
  UNIQUE KEY uq_colours_slug (slug),
  CONSTRAINT ck_colours_slug CHECK (slug REGEXP '^[a-z0-9]+(-[a-z0-9]+)*$'),
  CONSTRAINT ck_colours_hex CHECK (hex REGEXP '^#[0-9a-fA-F]{6}$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- search_text is denormalised (brand name, category and parent category
-- names) so that ONE FULLTEXT index covers everything a shopper may type;
-- the triggers below keep it in step with brands and categories.
-- rating_avg / rating_count are denormalised from the approved reviews;
-- they are recomputed in the same transaction that approves, rejects or
-- adds a review (catalog_add_review / catalog_moderate_review).
CREATE TABLE IF NOT EXISTS products (
  id               INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  slug             VARCHAR(120) NOT NULL,
  name             VARCHAR(160) NOT NULL,
  description      TEXT         NOT NULL,
  brand_id         INT UNSIGNED NOT NULL,
  category_id      INT UNSIGNED NOT NULL,
  price            BIGINT       NOT NULL,          -- minor units
  compare_at_price BIGINT       NULL,              -- minor units; "was" price when on sale
  currency         CHAR(3)      NOT NULL DEFAULT 'GBP',
  gender           ENUM('men','women','kids','unisex') NOT NULL,
  material         VARCHAR(255) NOT NULL DEFAULT '',
  tags             TEXT         NOT NULL,          -- comma separated: 'running,road,cushioned'
  search_text      VARCHAR(500) NOT NULL DEFAULT '',
  active           TINYINT(1)   NOT NULL DEFAULT 1,
  featured         TINYINT(1)   NOT NULL DEFAULT 0,
  popularity       INT UNSIGNED NOT NULL DEFAULT 0, -- views/sales counter for "most popular"
  rating_avg       DECIMAL(3,2) NOT NULL DEFAULT 0,
  rating_count     INT UNSIGNED NOT NULL DEFAULT 0,
  created_at       DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at       DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY uq_products_slug (slug),
  -- listing a category (the subtree's ids) with a price range / price sort
  KEY idx_products_category (category_id, active, price),
  KEY idx_products_brand (brand_id, active, price),
  KEY idx_products_gender (gender, active, price),
  KEY idx_products_price (active, price),
  -- the sort orders of an unfiltered listing, and the home page
  KEY idx_products_created (active, created_at),
  KEY idx_products_popularity (active, popularity),
  KEY idx_products_rating (active, rating_avg, rating_count),
  KEY idx_products_featured (active, featured, popularity),
  FULLTEXT KEY ft_products_search (name, description, tags, search_text),
  CONSTRAINT fk_products_brand FOREIGN KEY (brand_id) REFERENCES brands (id) ON DELETE RESTRICT,
  CONSTRAINT fk_products_category FOREIGN KEY (category_id) REFERENCES categories (id) ON DELETE RESTRICT,
  CONSTRAINT ck_products_slug CHECK (slug REGEXP '^[a-z0-9]+(-[a-z0-9]+)*$'),
  CONSTRAINT ck_products_price CHECK (price >= 0),
  CONSTRAINT ck_products_compare_at CHECK (compare_at_price IS NULL OR compare_at_price > price),
  CONSTRAINT ck_products_currency CHECK (currency REGEXP '^[A-Z]{3}$'),
  CONSTRAINT ck_products_rating CHECK (rating_avg >= 0 AND rating_avg <= 5)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per SKU. size_key ('uk-9', 'uk-9.5', 'eu-42') is what the size
-- filter and the size facet use; it is generated from size_system and
-- size_value so it can never disagree with them. stock is unsigned AND
-- checked: selling more than is left fails instead of wrapping or clamping.
CREATE TABLE IF NOT EXISTS variants (
  id           INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id   INT UNSIGNED NOT NULL,
  colour_id    INT UNSIGNED NOT NULL,
  sku          VARCHAR(64)  NOT NULL,
  size_system  ENUM('UK','EU','US') NOT NULL DEFAULT 'UK',
  size_value   DECIMAL(4,1) NOT NULL,     -- 9.0, 9.5 (half sizes)
  size_label   VARCHAR(16)  NOT NULL,     -- 'UK 9.5'
  size_key     VARCHAR(12)  AS (CONCAT(LOWER(size_system), '-',
                 IF(size_value = FLOOR(size_value), CAST(FLOOR(size_value) AS CHAR), CAST(size_value AS CHAR)))) STORED,
  width        ENUM('Narrow','Standard','Wide') NOT NULL DEFAULT 'Standard',
  stock        INT UNSIGNED NOT NULL DEFAULT 0,
  UNIQUE KEY uq_variants_sku (sku),
  UNIQUE KEY uq_variants_option (product_id, colour_id, size_system, size_value, width),
  -- "has a variant in this size with stock > 0" (size filter and facet)
  KEY idx_variants_size (product_id, size_key, stock),
  KEY idx_variants_size_stock (size_key, stock, product_id),
  -- colour filter and facet
  KEY idx_variants_colour (colour_id, product_id),
  CONSTRAINT fk_variants_product FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
  CONSTRAINT fk_variants_colour FOREIGN KEY (colour_id) REFERENCES colours (id) ON DELETE RESTRICT,
  CONSTRAINT ck_variants_stock CHECK (stock >= 0),
  CONSTRAINT ck_variants_size CHECK (size_value > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- colour_id NULL = an image of the product as a whole.
CREATE TABLE IF NOT EXISTS product_images (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id  INT UNSIGNED NOT NULL,
  colour_id   INT UNSIGNED NULL,
  url         VARCHAR(255) NOT NULL,
  alt         VARCHAR(255) NOT NULL DEFAULT '',
  position    INT          NOT NULL DEFAULT 0,
  KEY idx_product_images_product (product_id, position),
  KEY idx_product_images_colour (colour_id),
  CONSTRAINT fk_product_images_product FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
  CONSTRAINT fk_product_images_colour FOREIGN KEY (colour_id) REFERENCES colours (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Reviews. Only 'approved' reviews are shown and counted in
-- products.rating_avg / rating_count.
-- verified_purchase rule: it is TRUE only when the author bought this
-- product. There are no orders yet, so nothing sets it at run time
-- (catalog_add_review always stores FALSE); the demo seed marks a review
-- verified only where its data says the reviewer bought the product. When
-- orders exist, the order code sets it by checking a paid order line of
-- this product for user_id — never from anything the reviewer submits.
-- user_id has no foreign key yet: the users table comes with accounts.
CREATE TABLE IF NOT EXISTS reviews (
  id                INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id        INT UNSIGNED NOT NULL,
  rating            TINYINT      NOT NULL,
  title             VARCHAR(120) NOT NULL,
  body              TEXT         NOT NULL,
  author_name       VARCHAR(80)  NOT NULL,
  user_id           BIGINT UNSIGNED NULL,
  verified_purchase TINYINT(1)   NOT NULL DEFAULT 0,
  status            ENUM('pending','approved','rejected') NOT NULL DEFAULT 'pending',
  created_at        DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY idx_reviews_product (product_id, status, created_at),
  KEY idx_reviews_status (status, created_at),
  CONSTRAINT fk_reviews_product FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
  CONSTRAINT ck_reviews_rating CHECK (rating BETWEEN 1 AND 5)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Keep products.search_text = "<brand> <parent category> <category>".
CREATE TRIGGER IF NOT EXISTS products_search_text_bi BEFORE INSERT ON products FOR EACH ROW
  SET NEW.search_text = CONCAT_WS(' ',
    (SELECT b.name FROM brands b WHERE b.id = NEW.brand_id),
    (SELECT CONCAT_WS(' ', pc.name, c.name) FROM categories c LEFT JOIN categories pc ON pc.id = c.parent_id
      WHERE c.id = NEW.category_id));

CREATE TRIGGER IF NOT EXISTS products_search_text_bu BEFORE UPDATE ON products FOR EACH ROW
  SET NEW.search_text = CONCAT_WS(' ',
    (SELECT b.name FROM brands b WHERE b.id = NEW.brand_id),
    (SELECT CONCAT_WS(' ', pc.name, c.name) FROM categories c LEFT JOIN categories pc ON pc.id = c.parent_id
      WHERE c.id = NEW.category_id));

-- A renamed brand or category re-derives search_text of its products (the
-- UPDATE fires products_search_text_bu, which reads the new names).
CREATE TRIGGER IF NOT EXISTS brands_search_text_au AFTER UPDATE ON brands FOR EACH ROW
  UPDATE products SET search_text = '' WHERE brand_id = NEW.id AND NEW.name <> OLD.name;

CREATE TRIGGER IF NOT EXISTS categories_search_text_au AFTER UPDATE ON categories FOR EACH ROW
  UPDATE products SET search_text = '' WHERE NEW.name <> OLD.name
    AND category_id IN (SELECT c.id FROM categories c WHERE c.id = NEW.id OR c.parent_id = NEW.id);
