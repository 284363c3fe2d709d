SELECT seq, at, state FROM replay_keyframes WHERE seq <= $1 ORDER BY seq DESC LIMIT 1
