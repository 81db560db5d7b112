-- 0010: the admin portal's categories, brands, colours and review
-- moderation (src/shop/taxonomy_admin.c, src/shop/catalog_admin.c).
--
-- Re-runnable like the others: ADD COLUMN IF NOT EXISTS, CREATE OR REPLACE
-- TRIGGER.

-- The shop's reply to a review, shown under it on the product page once the
-- review is approved. reply_author is the staff member's name when they
-- replied (the audit log keeps who exactly: reply_author_id and e-mail);
-- NULL reply_text = no reply.
ALTER TABLE reviews
  ADD COLUMN IF NOT EXISTS reply_text      TEXT            NULL,
  ADD COLUMN IF NOT EXISTS reply_author    VARCHAR(100)    NULL,
  ADD COLUMN IF NOT EXISTS reply_author_id BIGINT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS replied_at      DATETIME        NULL;

-- products.search_text holds "<brand> <parent category> <category>"
-- (migrations/0002). A category moved under another parent changes the
-- parent name of its own products, so they are re-derived on a move too,
-- not only on a rename (the trigger of 0002 covered renames only). The
-- UPDATE fires products_search_text_bu, which reads the new names.
CREATE OR REPLACE TRIGGER categories_search_text_au AFTER UPDATE ON categories FOR EACH ROW
  UPDATE products SET search_text = ''
  WHERE (NEW.name <> OLD.name
         AND category_id IN (SELECT c.id FROM categories c WHERE c.id = NEW.id OR c.parent_id = NEW.id))
     OR (NOT (NEW.parent_id <=> OLD.parent_id) AND category_id = NEW.id);
