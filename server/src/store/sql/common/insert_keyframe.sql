INSERT INTO replay_keyframes (seq, at, state) VALUES ($1, $2, $3) ON CONFLICT (seq) DO NOTHING
