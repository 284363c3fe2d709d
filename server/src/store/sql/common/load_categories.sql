SELECT code, name, class, department_code, limit_low_h, limit_normal_h, limit_high_h, limit_urgent_h,
       kind, active
FROM categories
ORDER BY code
