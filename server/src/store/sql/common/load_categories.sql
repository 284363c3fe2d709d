SELECT code, name, name_zh, class, department_code, limit_low_h, limit_normal_h, limit_high_h, limit_urgent_h,
       kind, active, clock
FROM categories
ORDER BY code
