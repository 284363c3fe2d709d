//! A TCP proxy between a server under test and its PostgreSQL, to make the network fail on purpose:
//! [`Proxy::cut`] is a partition (every open connection broken, new ones accepted and then never
//! answered, as packets dropped on the floor would be), [`Proxy::restore`] ends it; and
//! [`Proxy::lose_commit_answers`] forwards a share of the COMMITs, chosen by a seeded generator, then
//! closes their connection without forwarding the answer: a commit whose outcome the client cannot know;
//! [`Proxy::lose_next_commit_and_cut`] does that once and then cuts, so the client cannot ask either.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct Proxy {
    /// `host:port` to give the server instead of the database's.
    pub addr: String,
    cut: Arc<AtomicBool>,
    /// COMMITs whose answer is lost, per thousand; and the generator that picks them.
    lose: Arc<Lose>,
    /// Every connection's forwarding (or holding) task: aborted on a cut, and on a restore.
    conns: Arc<Mutex<Vec<AbortHandle>>>,
    listener: AbortHandle,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards each connection to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let lose = Arc::new(Lose {
            per_mille: AtomicU32::new(0),
            state: AtomicU64::new(0x9e37_79b9_7f4a_7c15),
            lost: AtomicU32::new(0),
            then_cut: AtomicBool::new(false),
            writes_only: AtomicBool::new(false),
        });
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let upstream = upstream.to_owned();
        let accepting = {
            let (cut, conns, lose) = (Arc::clone(&cut), Arc::clone(&conns), Arc::clone(&lose));
            tokio::spawn(async move {
                loop {
                    let Ok((client, _)) = listener.accept().await else {
                        continue;
                    };
                    let task = if cut.load(Ordering::SeqCst) {
                        // Held open, never answered: the client waits until it gives up.
                        tokio::spawn(async move {
                            std::future::pending::<()>().await;
                            drop(client);
                        })
                    } else {
                        let (upstream, lose) = (upstream.clone(), Arc::clone(&lose));
                        let (cut, conns) = (Arc::clone(&cut), Arc::clone(&conns));
                        tokio::spawn(async move {
                            let Ok(server) = TcpStream::connect(&upstream).await else {
                                return;
                            };
                            let partition = move || {
                                cut.store(true, Ordering::SeqCst);
                                for task in conns
                                    .lock()
                                    .unwrap_or_else(PoisonError::into_inner)
                                    .drain(..)
                                {
                                    task.abort();
                                }
                            };
                            forward(client, server, &lose, partition).await;
                        })
                    };
                    conns
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(task.abort_handle());
                }
            })
        };
        Self {
            addr,
            cut,
            lose,
            conns,
            listener: accepting.abort_handle(),
        }
    }

    /// From now on, loses the answer of `per_mille` COMMITs in a thousand (0: none), picked by a
    /// generator seeded with `seed`.
    pub fn lose_commit_answers(&self, per_mille: u32, seed: u64) {
        self.lose.state.store(seed | 1, Ordering::SeqCst);
        self.lose.per_mille.store(per_mille, Ordering::SeqCst);
    }

    /// Loses the answer of the next COMMIT of a transaction that wrote, then cuts (as [`Proxy::cut`]) until [`Proxy::restore`]: a
    /// commit whose outcome the server cannot learn in time.
    pub fn lose_next_commit_and_cut(&self) {
        self.lose.writes_only.store(true, Ordering::SeqCst);
        self.lose.then_cut.store(true, Ordering::SeqCst);
        self.lose.per_mille.store(1000, Ordering::SeqCst);
    }

    /// How many COMMIT answers were lost so far.
    pub fn lost_commits(&self) -> u32 {
        self.lose.lost.load(Ordering::SeqCst)
    }

    /// Breaks every connection and answers no new one until [`Proxy::restore`].
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.drop_all();
    }

    /// Forwards new connections again (the ones held during the cut are closed).
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
        self.drop_all();
    }

    fn drop_all(&self) {
        for task in self
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.listener.abort();
        self.drop_all();
    }
}

struct Lose {
    per_mille: AtomicU32,
    /// xorshift64 state.
    state: AtomicU64,
    lost: AtomicU32,
    /// After the next lost answer, cut every connection (and stop losing answers).
    then_cut: AtomicBool,
    /// Lose only the answer of a COMMIT that ends a transaction that wrote (an INSERT or UPDATE since
    /// its BEGIN), not a read's.
    writes_only: AtomicBool,
}

impl Lose {
    /// Whether this COMMIT's answer is to be lost.
    fn pick(&self) -> bool {
        let per_mille = self.per_mille.load(Ordering::SeqCst);
        if per_mille == 0 {
            return false;
        }
        let mut x = self.state.load(Ordering::SeqCst);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state.store(x, Ordering::SeqCst);
        x % 1000 < u64::from(per_mille)
    }
}

/// Forwards both ways until either side closes. A client message that holds a COMMIT (PostgreSQL's
/// simple query `Q…COMMIT`) may be picked: it is sent on, the server's answer is swallowed, and a
/// moment later both connections are closed, so the COMMIT happened but its client never hears.
async fn forward(client: TcpStream, server: TcpStream, lose: &Lose, partition: impl FnOnce()) {
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let swallow = AtomicBool::new(false);
    // Called once the picked COMMIT was answered (it committed), or a moment after it was sent.
    let partition = Mutex::new(Some(partition));
    let cut_if_asked = || {
        if lose.then_cut.swap(false, Ordering::SeqCst) {
            lose.per_mille.store(0, Ordering::SeqCst);
            if let Some(partition) = partition
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
            {
                partition();
            }
        }
    };
    let upward = async {
        let mut buf = vec![0; 64 * 1024];
        // Whether the transaction under way on this connection has written.
        let mut wrote = false;
        loop {
            let Ok(n) = from_client.read(&mut buf).await else {
                return;
            };
            if n == 0 {
                return;
            }
            let chunk = &buf[..n];
            let holds = |word: &[u8]| chunk.windows(word.len()).any(|w| w == word);
            if holds(b"BEGIN") {
                wrote = false;
            }
            wrote |= holds(b"INSERT") || holds(b"UPDATE");
            let commit = sends_commit(chunk);
            if commit && (wrote || !lose.writes_only.load(Ordering::SeqCst)) && lose.pick() {
                swallow.store(true, Ordering::SeqCst);
                let _ = to_server.write_all(chunk).await;
                lose.lost.fetch_add(1, Ordering::SeqCst);
                // Time for the server to commit; then both connections go (and all others, to cut).
                tokio::time::sleep(Duration::from_millis(100)).await;
                cut_if_asked();
                return;
            }
            if to_server.write_all(chunk).await.is_err() {
                return;
            }
        }
    };
    let downward = async {
        let mut buf = vec![0; 64 * 1024];
        loop {
            let Ok(n) = from_server.read(&mut buf).await else {
                return;
            };
            if n == 0 {
                return;
            }
            if swallow.load(Ordering::SeqCst) {
                cut_if_asked();
                return;
            }
            if to_client.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    // Whichever ends first ends both: the sockets close when this returns.
    tokio::select! {
        () = upward => {}
        () = downward => {}
    }
}

/// Whether `chunk` sends a COMMIT statement: the word as a statement's text (after a Parse message's
/// statement name, or a simple Query message's length), not inside another statement (a comment).
fn sends_commit(chunk: &[u8]) -> bool {
    const WORD: &[u8] = b"COMMIT";
    chunk.windows(WORD.len()).enumerate().any(|(at, w)| {
        w == WORD && (at > 0 && chunk[at - 1] == 0 || at >= 5 && chunk[at - 5] == b'Q')
    })
}

/// `url` (`postgres://user@host:port/db…`) with its `host:port` replaced by `addr`, and the
/// `host:port` it named.
pub fn through(url: &str, addr: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, rest) = rest.split_once('@').map_or(("", rest), |(u, r)| (u, r));
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let upstream = &rest[..end];
    let upstream = if upstream.contains(':') {
        upstream.to_owned()
    } else {
        format!("{upstream}:5432")
    };
    let at = if user.is_empty() { "" } else { "@" };
    (
        format!("{scheme}://{user}{at}{addr}{}", &rest[end..]),
        upstream,
    )
}

#[test]
fn a_url_goes_through_the_proxy() {
    assert_eq!(
        through("postgres://postgres@127.0.0.1:5432/gw_1", "127.0.0.1:9"),
        (
            "postgres://postgres@127.0.0.1:9/gw_1".to_owned(),
            "127.0.0.1:5432".to_owned()
        )
    );
    assert_eq!(
        through("postgres://localhost/db?sslmode=disable", "127.0.0.1:9"),
        (
            "postgres://127.0.0.1:9/db?sslmode=disable".to_owned(),
            "localhost:5432".to_owned()
        )
    );
}

#[test]
fn a_commit_is_a_statement_not_a_word_in_a_comment() {
    // A Parse message (unnamed statement), a simple Query, and a Parse whose comment names COMMIT.
    assert!(sends_commit(b"P\0\0\0\x0f\0COMMIT\0\0\0"));
    assert!(sends_commit(b"Q\0\0\0\x0bCOMMIT\0"));
    assert!(!sends_commit(
        b"P\0\0\0\x40sqlx_s_12\0-- read before its COMMIT.\nSELECT pg_current_xact_id()\0\0\0"
    ));
}
