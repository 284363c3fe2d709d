-- Category clocks and names (issue 22), PostgreSQL dialect. The same change as
-- migrations/sqlite/0018_category_clock.sql.
--
-- `clock`: which clock a category's time limits run on — the office's working calendar (`office`) or
-- around the clock (`always`, 24/7). Emergencies and public safety cannot wait for Monday.
-- `name_zh`: the Chinese name; `name` becomes English only, so a page shows one language at a time.
-- Seeded rows are renamed only where they still hold the seeded value: a deployment's own names stay.
ALTER TABLE categories ADD COLUMN clock text NOT NULL DEFAULT 'office' CHECK (clock IN ('office', 'always'));
ALTER TABLE categories ADD COLUMN name_zh text;

UPDATE categories SET clock = 'always' WHERE code IN ('emergency', 'public_safety');

UPDATE categories SET name = 'City appearance and environment', name_zh = '市容环境'
    WHERE code = 'city_appearance' AND name = 'City appearance and environment (市容环境)';
UPDATE categories SET name = 'Advertising', name_zh = '宣传广告'
    WHERE code = 'advertising' AND name = 'Advertising (宣传广告)';
UPDATE categories SET name = 'Construction', name_zh = '施工管理'
    WHERE code = 'construction' AND name = 'Construction (施工管理)';
UPDATE categories SET name = 'Street order', name_zh = '街面秩序'
    WHERE code = 'street_order' AND name = 'Street order (街面秩序)';
UPDATE categories SET name = 'Emergencies', name_zh = '突发事件'
    WHERE code = 'emergency' AND name = 'Emergencies (突发事件)';
UPDATE categories SET name = 'Other', name_zh = '其他事件'
    WHERE code = 'other' AND name = 'Other (其他事件)';
UPDATE categories SET name = 'Disputes', name_zh = '矛盾纠纷'
    WHERE code = 'dispute' AND name = 'Disputes (矛盾纠纷)';
UPDATE categories SET name = 'Public safety', name_zh = '治安'
    WHERE code = 'public_safety' AND name = 'Public safety (治安)';
UPDATE categories SET name = 'Hazards', name_zh = '安全隐患'
    WHERE code = 'hazard' AND name = 'Hazards (安全隐患)';
UPDATE categories SET name = 'People''s requests', name_zh = '民生诉求'
    WHERE code = 'livelihood' AND name = 'People''s requests (民生诉求)';
