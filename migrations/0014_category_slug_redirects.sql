-- 0014: a category's earlier slugs, as 0009 keeps a product's.
--
-- /category/<old_slug> answers 301 to the category's CURRENT slug (the
-- query string kept), so links and bookmarks to a renamed category keep
-- working and a chain of renames needs no chain of redirects. A slug that
-- a category takes (new or renamed) is removed from here in the same
-- transaction (src/shop/taxonomy_admin.c): a live category always wins.
-- Deleting the category deletes its old addresses (they then 404).
CREATE TABLE IF NOT EXISTS category_slug_redirects (
  old_slug     VARCHAR(80)  NOT NULL PRIMARY KEY,
  category_id  INT UNSIGNED NOT NULL,
  created_at   DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY category_slug_redirects_category (category_id),
  CONSTRAINT category_slug_redirects_category_fk FOREIGN KEY (category_id) REFERENCES categories (id)
    ON DELETE CASCADE,
  CONSTRAINT category_slug_redirects_slug CHECK (old_slug REGEXP '^[a-z0-9]+(-[a-z0-9]+)*$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
