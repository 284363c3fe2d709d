SELECT seq, at FROM replay_keyframes ORDER BY seq LIMIT 1
