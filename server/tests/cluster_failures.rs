//! Three nodes behind HAProxy under load while something fails, counted against
//! PostgreSQL as the oracle: a node killed with `kill -9` under 60 clients, the node
//! holding the write lock killed, or frozen with `SIGSTOP` for 20 s, PostgreSQL
//! restarted with `-m immediate`. (NATS stopped for 10 s is in `cluster.rs`.)
//! Clients behave as the web app does: one message in flight with its
//! `clientMessageId`, sent again (same id) after an error or a lost connection; they
//! reconnect through HAProxy and resume from their last event id.
//!
//! After each: no acknowledged message is missing from the database, none is stored
//! twice, every client received every message once (with its own), every client is
//! connected again, and no client waited longer than the bound for its connection.
//!
//! Needs PostgreSQL (`PARLOR_TEST_PG`), Debian's `haproxy`: `scripts/dev test` runs it
//! with `--include-ignored --test-threads 1` once it has started PostgreSQL.

mod common;

use common::cluster::Cluster;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

/// What one client saw.
#[derive(Debug, Default)]
struct Report {
    name: String,
    /// Message ids its `new` requests were answered with.
    acked: Vec<u64>,
    /// Message ids of General's `new` events it received, over all its connections.
    received: Vec<u64>,
    /// For each lost connection: how long until it was subscribed again.
    outages: Vec<Duration>,
    /// Connected and subscribed when the test ended.
    connected: bool,
}

/// The phases the test moves its clients through.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Sending,
    /// Send what is pending, nothing new; keep receiving.
    Draining,
    Done,
}

/// One chat client: sends a message every `every` (one at a time), receives
/// everything, reconnects through `url` when its connection goes.
async fn chatter(
    url: String,
    name: String,
    every: Duration,
    phase: watch::Receiver<Phase>,
) -> Report {
    let mut report = Report {
        name: name.clone(),
        ..Report::default()
    };
    let mut last_event = 0u64;
    let mut seq = 0u64;
    let mut pending: Option<u64> = None;
    let mut lost_at: Option<Instant> = None;
    let mut request = 0u64;
    'connection: loop {
        if *phase.borrow() == Phase::Done {
            return report;
        }
        report.connected = false;
        let ws = match tokio::time::timeout(
            Duration::from_secs(2),
            tokio_tungstenite::connect_async(url.as_str()),
        )
        .await
        {
            Ok(Ok((ws, _))) => ws,
            _ => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (mut tx, mut rx) = ws.split();
        // Log in, subscribe from the last event seen.
        let mut step = |kind: &str, payload: Value| {
            request += 1;
            (
                format!("{kind}{request}"),
                json!({"type": "request", "id": format!("{kind}{request}"), "timestamp": 1,
                       "payloadType": kind, "payload": payload})
                .to_string(),
            )
        };
        let (auth_id, auth) = step(
            "auth",
            json!({"username": name, "password": format!("password-{name}")}),
        );
        let (sub_id, sub) = step("subscribe", json!({"lastEventId": last_event}));
        if tx.send(Message::text(auth)).await.is_err() {
            continue;
        }
        let mut subscribed = false;
        let mut in_flight: Option<(String, Instant)> = None;
        let mut tick = tokio::time::interval(every);
        let mut phase = phase.clone();
        loop {
            tokio::select! {
                frame = tokio::time::timeout(Duration::from_secs(30), rx.next()) => {
                    let Ok(Some(Ok(frame))) = frame else {
                        lost_at.get_or_insert_with(Instant::now);
                        continue 'connection;
                    };
                    let Message::Text(text) = frame else {
                        if matches!(frame, Message::Close(_)) {
                            lost_at.get_or_insert_with(Instant::now);
                            continue 'connection;
                        }
                        continue;
                    };
                    let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                    if v["type"] == "response" {
                        let id = v["id"].as_str().unwrap_or_default();
                        if id == auth_id {
                            if v.get("error").is_some() {
                                tokio::time::sleep(Duration::from_millis(200)).await;
                                continue 'connection;
                            }
                            if tx.send(Message::text(sub.clone())).await.is_err() {
                                continue 'connection;
                            }
                        } else if id == sub_id {
                            if v.get("error").is_some() {
                                continue 'connection;
                            }
                            subscribed = true;
                            report.connected = true;
                            if let Some(at) = lost_at.take() {
                                report.outages.push(at.elapsed());
                            }
                        } else if in_flight.as_ref().is_some_and(|(f, _)| f == id) {
                            in_flight = None;
                            // Refused (the store is away): the same message
                            // again at the next tick.
                            if let Some(mid) = v["payload"]["messageId"].as_u64() {
                                report.acked.push(mid);
                                pending = None;
                            }
                        }
                    } else if v["type"] == "event" {
                        if let Some(id) = v["id"].as_u64() {
                            last_event = last_event.max(id);
                        }
                        if v["eventType"] == "new" && v["payload"]["chatId"] == "#General" {
                            if let Some(mid) = v["payload"]["messageId"].as_u64() {
                                report.received.push(mid);
                            }
                        }
                    }
                }
                _ = tick.tick() => {
                    let now = *phase.borrow_and_update();
                    if now == Phase::Done {
                        return report;
                    }
                    if !subscribed || in_flight.is_some() {
                        continue;
                    }
                    if pending.is_none() && now == Phase::Sending {
                        seq += 1;
                        pending = Some(seq);
                    }
                    let Some(n) = pending else { continue };
                    let (id, frame) = step("new", json!({"chatId": "#General",
                        "message": format!("{name} {n}"), "clientMessageId": format!("{name}-{n}")}));
                    if tx.send(Message::text(frame)).await.is_err() {
                        lost_at.get_or_insert_with(Instant::now);
                        continue 'connection;
                    }
                    in_flight = Some((id, Instant::now()));
                }
            }
        }
    }
}

/// The clients: `count` people through the proxy, each sending every `every`.
struct Crowd {
    phase: watch::Sender<Phase>,
    tasks: Vec<tokio::task::JoinHandle<Report>>,
}

impl Crowd {
    async fn start(cluster: &Cluster, count: usize, every: Duration) -> Crowd {
        // Register everyone first (one at a time: registration hashes a password).
        for i in 0..count {
            drop(cluster.online_via_proxy(&format!("p{i}")).await);
        }
        let (phase, rx) = watch::channel(Phase::Sending);
        let url = format!("ws://{}/ws", cluster.proxy.addr);
        let tasks = (0..count)
            .map(|i| tokio::spawn(chatter(url.clone(), format!("p{i}"), every, rx.clone())))
            .collect();
        Crowd { phase, tasks }
    }

    /// Stops sending, lets every pending message through and every event arrive.
    async fn finish(self, drain: Duration) -> Vec<Report> {
        let _ = self.phase.send(Phase::Draining);
        tokio::time::sleep(drain).await;
        let _ = self.phase.send(Phase::Done);
        let mut out = Vec::new();
        for t in self.tasks {
            out.push(t.await.expect("client task"));
        }
        out
    }
}

/// Checks the reports against the database; `outage` bounds each client's wait.
fn check(cluster: &Cluster, reports: &[Report], outage: Duration) {
    let stored: Vec<u64> = common::psql(
        &cluster.url,
        "SELECT id FROM messages WHERE chat = (SELECT 'r:' || id FROM rooms WHERE name_key = 'general') ORDER BY id",
    )
    .lines()
    .filter_map(|l| l.trim().parse().ok())
    .collect();
    let stored_set: BTreeSet<u64> = stored.iter().copied().collect();
    let twice = common::psql(
        &cluster.url,
        "SELECT count(*) FROM (SELECT client_message_id FROM messages
         WHERE client_message_id IS NOT NULL GROUP BY sender_key, client_message_id
         HAVING count(*) > 1) t",
    );
    assert_eq!(twice, "0", "a clientMessageId stored twice");
    let gaps = common::psql(
        &cluster.url,
        "SELECT count(*) FROM (SELECT id - lag(id) OVER (ORDER BY id) AS step FROM events) t WHERE step <> 1",
    );
    assert_eq!(gaps, "0", "the event log has a gap");
    let mut all_acked = BTreeSet::new();
    for r in reports {
        assert!(r.connected, "{} was not connected at the end", r.name);
        for id in &r.acked {
            assert!(
                stored_set.contains(id),
                "{}'s message {id} was acknowledged but is not stored",
                r.name
            );
            all_acked.insert(*id);
        }
        let received: BTreeSet<u64> = r.received.iter().copied().collect();
        assert_eq!(
            received.len(),
            r.received.len(),
            "{} received a message twice",
            r.name
        );
        let own: BTreeSet<u64> = r.acked.iter().copied().collect();
        let seen: BTreeSet<u64> = received.union(&own).copied().collect();
        let missing: Vec<&u64> = stored_set.difference(&seen).collect();
        assert!(missing.is_empty(), "{} never received {missing:?}", r.name);
        for o in &r.outages {
            assert!(*o < outage, "{} waited {o:?} for its connection", r.name);
        }
    }
    assert_eq!(
        all_acked, stored_set,
        "a stored message nobody was answered for"
    );
}

fn node_pids(cluster: &Cluster) -> Vec<u32> {
    cluster.nodes.iter().map(|n| n.pid()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn kill_dash_9_of_a_node_under_60_clients_loses_nothing_and_they_are_back_within_5_s() {
    let mut cluster = Cluster::start_with(&["--rate-limit", "1000"]);
    let crowd = Crowd::start(&cluster, 60, Duration::from_millis(400)).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    cluster.nodes[1].kill();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let reports = crowd.finish(Duration::from_secs(6)).await;
    let moved = reports.iter().filter(|r| !r.outages.is_empty()).count();
    assert!(moved >= 10, "only {moved} clients lost their node");
    let worst = reports.iter().flat_map(|r| r.outages.iter()).max();
    let sent: usize = reports.iter().map(|r| r.acked.len()).sum();
    eprintln!("{sent} messages acknowledged; {moved} clients moved; longest outage {worst:?}");
    check(&cluster, &reports, Duration::from_secs(5));
}

/// The node whose writer holds the sequencer row in an open transaction, if one does.
fn lock_holder(cluster: &Cluster) -> Option<u32> {
    let out = common::psql(
        &cluster.url,
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.relation = 'sequencer'::regclass AND l.granted
           AND a.state = 'idle in transaction' AND cardinality(pg_blocking_pids(a.pid)) = 0",
    );
    out.lines().find_map(|l| {
        l.trim()
            .strip_prefix("parlor/")
            .and_then(|p| p.parse().ok())
    })
}

/// Freezes (`SIGSTOP`) nodes in turn until one is caught holding the write lock, and
/// answers its pid (the others are thawed again at once).
async fn freeze_the_lock_holder(cluster: &Cluster) -> u32 {
    let pids = node_pids(cluster);
    for attempt in 0..200 {
        let pid = pids[attempt % pids.len()];
        signal(pid, "-STOP");
        tokio::time::sleep(Duration::from_millis(150)).await;
        if lock_holder(cluster) == Some(pid) {
            return pid;
        }
        signal(pid, "-CONT");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no node was caught holding the write lock in 200 tries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn kill_dash_9_of_the_write_lock_holder_frees_the_others_at_once() {
    let mut cluster = Cluster::start_with(&["--rate-limit", "1000"]);
    let crowd = Crowd::start(&cluster, 30, Duration::from_millis(100)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = freeze_the_lock_holder(&cluster).await;
    let node = cluster
        .nodes
        .iter()
        .position(|n| n.pid() == pid)
        .expect("a node's pid");
    cluster.nodes[node].kill();
    let killed = Instant::now();
    // Its connection died with it: PostgreSQL ends the transaction, the lock is free.
    while lock_holder(&cluster) == Some(pid) {
        assert!(
            killed.elapsed() < Duration::from_secs(2),
            "a dead node still holds the lock"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("lock freed {:?} after the kill", killed.elapsed());
    tokio::time::sleep(Duration::from_secs(4)).await;
    let reports = crowd.finish(Duration::from_secs(6)).await;
    check(&cluster, &reports, Duration::from_secs(5));
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {sig} {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn sigstop_of_the_write_lock_holder_for_20_s_stalls_nobody_and_it_never_commits_late() {
    let cluster = Cluster::start_with(&["--rate-limit", "1000"]);
    let crowd = Crowd::start(&cluster, 30, Duration::from_millis(100)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = freeze_the_lock_holder(&cluster).await;
    let stopped = Instant::now();
    let max_event = || -> u64 {
        common::psql(&cluster.url, "SELECT coalesce(max(id), 0) FROM events")
            .parse()
            .unwrap_or(0)
    };
    let at_stop = max_event();
    // The others write again once PostgreSQL ends the frozen transaction (5 s idle).
    let mut resumed = None;
    while stopped.elapsed() < Duration::from_secs(20) {
        let held = lock_holder(&cluster) == Some(pid);
        if !held && resumed.is_none() {
            resumed = Some(stopped.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let resumed = resumed.expect("the frozen node kept the lock for 20 s");
    assert!(
        resumed < Duration::from_secs(7),
        "the others waited {resumed:?}"
    );
    let at_thaw = max_event();
    signal(pid, "-CONT");
    let reports = crowd.finish(Duration::from_secs(8)).await;
    eprintln!(
        "lock freed after {resumed:?}; {} events written by the others while it was frozen",
        at_thaw - at_stop
    );
    assert!(
        at_thaw > at_stop + 100,
        "the others wrote {} events in 20 s",
        at_thaw - at_stop
    );
    // 30 s for a client of the frozen node: it waited out the 20 s with it.
    check(&cluster, &reports, Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn postgresql_restarted_with_m_immediate_loses_no_acknowledged_message() {
    // A PostgreSQL of this test's own: restarting the shared one would fail the others.
    let services = Services::start();
    let url = common::fresh_pg_database_on(&services.url, "restart");
    let mut cluster = Cluster::on(url, &["--rate-limit", "1000"]);
    let crowd = Crowd::start(&cluster, 30, Duration::from_millis(300)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    services.restart_immediately();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let reports = crowd.finish(Duration::from_secs(8)).await;
    let sent: usize = reports.iter().map(|r| r.acked.len()).sum();
    eprintln!("{sent} messages acknowledged across the restart");
    for node in &mut cluster.nodes {
        assert!(node.is_running(), "a node exited when PostgreSQL restarted");
    }
    check(&cluster, &reports, Duration::from_secs(5));
}

/// A throwaway PostgreSQL (`scripts/services`) of one test.
struct Services {
    dir: tempfile::TempDir,
    url: String,
    data: String,
}

impl Services {
    fn start() -> Services {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = std::process::Command::new(script())
            .arg("start")
            .arg(dir.path().join("s"))
            .output()
            .expect("scripts/services start");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let vars: HashMap<String, String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Services {
            url: vars["PARLOR_TEST_PG"].clone(),
            data: vars["PARLOR_TEST_PG_DATA"].clone(),
            dir,
        }
    }

    /// `pg_ctl restart -m immediate`: no checkpoint, as after a crash.
    fn restart_immediately(&self) {
        let pg_ctl = format!("{}/pg_ctl", pg_bin());
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--", &pg_ctl]);
            c
        } else {
            std::process::Command::new(&pg_ctl)
        };
        let ok = cmd
            .args([
                "-D",
                &self.data,
                "-m",
                "immediate",
                "-w",
                "-t",
                "60",
                "restart",
            ])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("pg_ctl")
            .success();
        assert!(ok, "pg_ctl restart");
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        let _ = std::process::Command::new(script())
            .arg("stop")
            .arg(self.dir.path().join("s"))
            .status();
    }
}

fn script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/services")
}

fn pg_bin() -> String {
    let mut bins: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL from Debian")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .collect();
    bins.sort();
    bins.last().expect("a PostgreSQL").display().to_string()
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
