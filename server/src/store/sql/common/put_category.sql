INSERT INTO categories (code, name, class, department_code, limit_low_h, limit_normal_h, limit_high_h,
                        limit_urgent_h, kind, active, name_zh, clock)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (code) DO UPDATE SET name = excluded.name, class = excluded.class,
    department_code = excluded.department_code, limit_low_h = excluded.limit_low_h,
    limit_normal_h = excluded.limit_normal_h, limit_high_h = excluded.limit_high_h,
    limit_urgent_h = excluded.limit_urgent_h, kind = excluded.kind, active = excluded.active,
    name_zh = excluded.name_zh, clock = excluded.clock
