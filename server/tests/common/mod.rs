//! Test harness: a real `parlor` process on a free 127.0.0.1 port with its own data
//! directory, and a WebSocket client that speaks JSON frames (over TLS when the server
//! serves HTTPS). By default the process is the binary cargo built for this test; a
//! [`Launch`] names another one (e.g. a cross-built binary) and a command to run it
//! with (e.g. qemu).
#![allow(dead_code)]

pub mod cluster;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = Duration::from_secs(10);

/// Which binary runs the server, under which command, and how long to wait for it.
#[derive(Clone, Debug)]
pub struct Launch {
    /// The `parlor` binary.
    pub program: PathBuf,
    /// A command prefix that runs it, e.g. `["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu"]`;
    /// empty to run the binary directly.
    pub runner: Vec<String>,
    /// How long to wait for the server to listen, and for any answer a client awaits.
    pub wait: Duration,
    /// Keep the data in the PostgreSQL of [`test_pg`] when it is set (`false`: always
    /// the embedded SQLite store).
    pub pg: bool,
}

impl Default for Launch {
    /// The binary built for this test, run directly.
    fn default() -> Launch {
        Launch {
            program: PathBuf::from(env!("CARGO_BIN_EXE_parlor")),
            runner: Vec::new(),
            wait: WAIT,
            pg: true,
        }
    }
}

impl Launch {
    fn command(&self) -> Command {
        match self.runner.split_first() {
            None => Command::new(&self.program),
            Some((runner, runner_args)) => {
                let mut cmd = Command::new(runner);
                cmd.args(runner_args).arg(&self.program);
                cmd
            }
        }
    }
}

/// A running server process; killed when dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub data: PathBuf,
    /// Whether the first line said `https://`.
    pub https: bool,
    /// The certificate clients trust under HTTPS: the self-signed one in the data
    /// directory unless a test sets another.
    pub trust: PathBuf,
    child: Child,
    args: Vec<String>,
    launch: Launch,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    pub fn start_with(args: &[&str]) -> Server {
        Server::launch(Launch::default(), args)
    }

    /// A server started as `launch` says.
    pub fn launch(launch: Launch, args: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (child, addr, https) = spawn(&launch, &data, &args);
        Server {
            addr,
            trust: data.join("tls").join("cert.pem"),
            data,
            https,
            child,
            args,
            launch,
            _dir: Some(dir),
        }
    }

    /// A server on the data directory `data`, which the caller keeps.
    pub fn start_on(data: &Path, args: &[&str]) -> Server {
        let launch = Launch::default();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (child, addr, https) = spawn(&launch, data, &args);
        Server {
            addr,
            trust: data.join("tls").join("cert.pem"),
            data: data.to_owned(),
            https,
            child,
            args,
            launch,
            _dir: None,
        }
    }

    /// `kill -9`, then start again on the same data directory.
    /// `kill -9`, and reaps it.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }

    pub fn crash_and_restart(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
        self.respawn(&self.args.clone());
    }

    fn respawn(&mut self, args: &[String]) {
        let (child, addr, https) = spawn(&self.launch, &self.data, args);
        self.child = child;
        self.addr = addr;
        self.https = https;
    }

    /// `kill -9`, then start again on the same data directory and the same port.
    pub fn crash_and_restart_same_port(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
        let mut args = self.args.clone();
        args.extend(["--bind".to_string(), self.addr.to_string()]);
        self.respawn(&args);
    }

    /// Starts again on the same data directory once the process has exited.
    pub fn restart(&mut self) {
        assert!(
            matches!(self.child.try_wait(), Ok(Some(_))),
            "restart needs the old process gone"
        );
        self.respawn(&self.args.clone());
    }

    /// Stops the server (SIGTERM) and starts it again on the same data directory with
    /// `args` instead of the first start's.
    pub fn restart_with(&mut self, args: &[&str]) {
        self.terminate();
        self.args = args.iter().map(|s| s.to_string()).collect();
        self.respawn(&self.args.clone());
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        self.send_term();
        self.child.wait().expect("wait")
    }

    /// Sends SIGTERM and returns at once.
    pub fn send_term(&self) {
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
    }

    /// The exit status, if the process exits within `wait`.
    pub fn wait_exit(&mut self, wait: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        let scheme = if self.https { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.addr, path)
    }

    pub async fn client(&self) -> Client {
        if self.https {
            Client::connect_tls(&self.url("/ws"), tls_client_config(&self.trust)).await
        } else {
            Client::connect_waiting(&self.url("/ws"), self.launch.wait).await
        }
    }

    /// A connected client logged in as `name` (registering it on first use).
    pub async fn login(&self, name: &str) -> Client {
        let mut c = self.client().await;
        let r = c
            .request(
                "auth",
                json!({"username": name, "password": "password-".to_string() + name}),
            )
            .await;
        assert!(r.get("error").is_none(), "login of {name} failed: {r}");
        c
    }

    /// A session token of `name` (registering it on first use), for uploads.
    pub async fn token(&self, name: &str) -> String {
        let mut c = self.client().await;
        let r = c
            .request(
                "auth",
                json!({"username": name, "password": format!("password-{name}")}),
            )
            .await;
        r["payload"]["token"].as_str().expect("token").to_string()
    }

    /// Logged in and subscribed from the beginning.
    pub async fn online(&self, name: &str) -> Client {
        let mut c = self.login(name).await;
        let r = c.request("subscribe", json!({"lastEventId": 0})).await;
        assert!(r.get("error").is_none(), "subscribe failed: {r}");
        let missed = r["payload"]["missed"].as_u64().unwrap_or(0);
        for _ in 0..missed {
            c.next_logged().await;
        }
        c
    }

    /// How many uploaded files the server keeps: files under `--data/uploads` for the
    /// embedded store, rows of `upload_files` for PostgreSQL.
    pub fn stored_uploads(&self) -> usize {
        match std::fs::read_to_string(self.data.join(".test-store")) {
            Ok(url) => psql(&url, "SELECT COUNT(*) FROM upload_files")
                .parse()
                .expect("a count"),
            Err(_) => std::fs::read_dir(self.data.join("uploads"))
                .map(|d| d.count())
                .unwrap_or(0),
        }
    }

    /// A plain HTTP GET: status line, headers (lowercased) and body.
    pub async fn get(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        http_waiting(self.addr, "GET", path, headers, &[], self.launch.wait).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The test's own PostgreSQL database goes with its temporary data directory.
        if let (Some(_), Some(admin)) = (&self._dir, test_pg()) {
            if let Ok(url) = std::fs::read_to_string(self.data.join(".test-store")) {
                if let Some((_, name)) = url.rsplit_once('/') {
                    let _ = Command::new("psql")
                        .args(["-X", "-q", &admin, "-c"])
                        .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .output();
                }
            }
        }
    }
}

/// The PostgreSQL server the tests run against instead of SQLite, when set: an admin
/// URL (`scripts/services start` prints it). Each data directory gets a database of
/// its own, named in the directory (`.test-store`), so that a restart finds its data.
pub fn test_pg() -> Option<String> {
    std::env::var("PARLOR_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty())
}

/// The `--store` URL of the data directory `data` under [`test_pg`], its database
/// made on first use.
pub fn pg_store_of(data: &Path) -> Option<String> {
    let admin = test_pg()?;
    let marker = data.join(".test-store");
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return Some(url);
    }
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "t{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    psql(&admin, &format!("CREATE DATABASE {name}"));
    let (base, _) = admin
        .rsplit_once('/')
        .expect("a PostgreSQL URL with a database");
    let url = format!("{base}/{name}");
    std::fs::create_dir_all(data).expect("data dir");
    std::fs::write(&marker, &url).expect("write the test store's name");
    Some(url)
}

/// A new, empty database on the test PostgreSQL (`prefix` and a unique tail); its URL.
pub fn fresh_pg_database(prefix: &str) -> String {
    let admin = test_pg().expect("needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)");
    fresh_pg_database_on(&admin, prefix)
}

/// A new, empty database on the PostgreSQL whose admin URL is `admin`.
pub fn fresh_pg_database_on(admin: &str, prefix: &str) -> String {
    let name = format!(
        "{prefix}{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    psql(admin, &format!("CREATE DATABASE {name}"));
    let (base, _) = admin
        .rsplit_once('/')
        .expect("a PostgreSQL URL with a database");
    format!("{base}/{name}")
}

/// Runs one SQL statement with psql on `url`; panics when it fails.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            url,
            "-c",
            sql,
        ])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn spawn(launch: &Launch, data: &Path, args: &[String]) -> (Child, SocketAddr, bool) {
    let bind = if args.iter().any(|a| a == "--bind") {
        Vec::new()
    } else {
        vec!["--bind", "127.0.0.1:0"]
    };
    let store = if !launch.pg || args.iter().any(|a| a == "--store") {
        Vec::new()
    } else {
        pg_store_of(data)
            .map(|url| vec!["--store".to_string(), url])
            .unwrap_or_default()
    };
    let mut child = launch
        .command()
        .arg("serve")
        .args(bind)
        .arg("--data")
        .arg(data)
        .args(store)
        .args(args)
        .env(
            "PARLOR_LOG",
            std::env::var("PARLOR_TEST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start parlor as {launch:?}: {e}"));
    let stdout = child.stdout.take().expect("stdout");
    // A thread reads stdout: it reports the address, then keeps draining the pipe so the
    // server never blocks on it. Here we wait for the address at most `launch.wait`.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if let Some(parsed) = parse_listening(&line) {
                let _ = tx.send(parsed);
                break;
            }
        }
        drop(tx);
        for _ in lines {}
    });
    match rx.recv_timeout(launch.wait) {
        Ok((addr, https)) => (child, addr, https),
        Err(e) => {
            let _ = child.kill();
            let status = child.wait();
            panic!(
                "parlor did not listen within {:?} ({e}); exit: {status:?}",
                launch.wait
            )
        }
    }
}

/// `parlor listening on http://ADDR` or `https://ADDR`: the address and whether TLS.
pub fn parse_listening(line: &str) -> Option<(SocketAddr, bool)> {
    let rest = line.strip_prefix("parlor listening on ")?;
    let (https, addr) = if let Some(a) = rest.strip_prefix("https://") {
        (true, a)
    } else {
        (false, rest.strip_prefix("http://")?)
    };
    Some((addr.trim().parse().expect("address"), https))
}

/// A rustls client configuration that trusts the PEM certificate(s) in `cert` only.
pub fn tls_client_config(cert: &Path) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert).expect("read the trusted certificate") {
        roots
            .add(c.expect("a PEM certificate"))
            .expect("a trust anchor");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    Arc::new(config)
}

pub async fn http_get(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    http(addr, "GET", path, headers, &[]).await
}

/// One HTTP/1.1 request: status, headers (lowercased names) and body.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    http_waiting(addr, method, path, headers, body, WAIT).await
}

/// [`http`], waiting up to `wait` for the whole response.
pub async fn http_waiting(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    wait: Duration,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method != "GET" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write body");
    let mut buf = Vec::new();
    tokio::time::timeout(wait, stream.read_to_end(&mut buf))
        .await
        .expect("http timeout")
        .expect("read");
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let mut body = buf[split + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
    {
        body = dechunk(&body);
    }
    (status, headers, body)
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..pos])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 || body.len() < pos + 4 + size {
            break;
        }
        out.extend_from_slice(&body[pos + 2..pos + 2 + size]);
        body = &body[pos + 2 + size + 2..];
    }
    out
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A JSON WebSocket client. Frames read while waiting for something else are kept.
pub struct Client {
    pub ws: Ws,
    buffered: VecDeque<Value>,
    next_id: u64,
    wait: Duration,
}

/// How a connection ended, as the client saw it.
#[derive(Debug, PartialEq)]
pub enum Closed {
    Frame(u16, String),
    NoFrame,
}

impl Client {
    pub async fn connect(url: &str) -> Client {
        Client::connect_waiting(url, WAIT).await
    }

    /// A client that waits up to `wait` for the connection and for each frame it expects.
    pub async fn connect_waiting(url: &str, wait: Duration) -> Client {
        let (ws, _) = tokio::time::timeout(wait, tokio_tungstenite::connect_async(url))
            .await
            .expect("connect timeout")
            .expect("connect");
        Client::over(ws, wait)
    }

    fn over(ws: Ws, wait: Duration) -> Client {
        Client {
            ws,
            buffered: VecDeque::new(),
            next_id: 1,
            wait,
        }
    }

    /// Connects to `server`'s `path` from the local address `local` (any of
    /// `127.0.0.0/8` on Linux), so the server sees another client address.
    pub async fn connect_from(server: &Server, path: &str, local: std::net::IpAddr) -> Client {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::new(local, 0))
            .expect("bind the local address");
        let tcp = tokio::time::timeout(WAIT, socket.connect(server.addr))
            .await
            .expect("connect timeout")
            .expect("connect");
        let (ws, _) = tokio_tungstenite::client_async(server.url(path), MaybeTlsStream::Plain(tcp))
            .await
            .expect("upgrade");
        Client::over(ws, WAIT)
    }

    /// Connects over TLS (`wss://`) trusting what `config` trusts.
    pub async fn connect_tls(url: &str, config: Arc<rustls::ClientConfig>) -> Client {
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            url,
            None,
            true,
            Some(Connector::Rustls(config)),
        );
        let (ws, _) = tokio::time::timeout(WAIT, connect)
            .await
            .expect("connect timeout")
            .expect("connect");
        Client::over(ws, WAIT)
    }

    /// Subscribes from `after` and reads the whole replay: the message ids of its `new`
    /// events, in the order they came.
    pub async fn replayed_message_ids(&mut self, after: u64) -> Vec<u64> {
        let r = self
            .request("subscribe", json!({ "lastEventId": after }))
            .await;
        let missed = r["payload"]["missed"].as_u64().expect("missed");
        let mut ids = Vec::new();
        for _ in 0..missed {
            let ev = self.next_logged().await;
            if ev["eventType"] == "new" {
                ids.push(ev["payload"]["messageId"].as_u64().expect("id"));
            }
        }
        ids
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    pub async fn send(&mut self, v: Value) {
        self.send_text(&v.to_string()).await;
    }

    /// The next JSON frame from the socket (not the buffer); `None` on close.
    async fn read(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(wait, self.ws.next()).await.ok()??;
            match msg {
                Ok(Message::Text(t)) => {
                    return Some(serde_json::from_str(&t).expect("server sends JSON"))
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// The next frame, buffered first.
    pub async fn next(&mut self) -> Value {
        if let Some(v) = self.buffered.pop_front() {
            return v;
        }
        self.read(self.wait).await.expect("a frame before timeout")
    }

    /// The first frame matching `pred` (others are kept for later).
    pub async fn next_where(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.buffered.iter().position(&pred) {
            return self.buffered.remove(i).expect("index");
        }
        loop {
            let v = self
                .read(self.wait)
                .await
                .expect("a matching frame before timeout");
            if pred(&v) {
                return v;
            }
            self.buffered.push_back(v);
        }
    }

    pub async fn event(&mut self, event_type: &str) -> Value {
        let t = event_type.to_string();
        self.next_where(move |v| v["type"] == "event" && v["eventType"] == t.as_str())
            .await
    }

    /// The next event that has an id.
    pub async fn next_logged(&mut self) -> Value {
        self.next_where(|v| v["type"] == "event" && v.get("id").is_some())
            .await
    }

    pub async fn response(&mut self, id: &str) -> Value {
        let id = id.to_string();
        self.next_where(move |v| v["type"] == "response" && v["id"] == id.as_str())
            .await
    }

    /// Sends a request and waits for its response.
    pub async fn request(&mut self, payload_type: &str, payload: Value) -> Value {
        let id = format!("r{}", self.next_id);
        self.next_id += 1;
        self.send(json!({"type": "request", "id": id, "timestamp": 1, "payloadType": payload_type, "payload": payload}))
            .await;
        self.response(&id).await
    }

    /// Asserts that no frame matching `pred` arrives within `wait`.
    pub async fn expect_none(&mut self, wait: Duration, pred: impl Fn(&Value) -> bool) {
        assert!(
            !self.buffered.iter().any(&pred),
            "unexpected buffered frame"
        );
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            match self.read(left).await {
                Some(v) => {
                    assert!(!pred(&v), "unexpected frame: {v}");
                    self.buffered.push_back(v);
                }
                None => return,
            }
        }
    }

    /// Waits for the connection to end and reports its close frame.
    pub async fn closed(&mut self, wait: Duration) -> Closed {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.ws.next()).await {
                Err(_) => panic!("connection still open after {wait:?}"),
                Ok(None) | Ok(Some(Err(_))) => return Closed::NoFrame,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return match frame {
                        Some(CloseFrame { code, reason }) => {
                            Closed::Frame(code.into(), reason.to_string())
                        }
                        None => Closed::NoFrame,
                    }
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}

/// The HTTP status of a refused WebSocket upgrade, or `None` if it was accepted.
pub async fn upgrade_status(url: &str) -> Option<u16> {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => None,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Some(response.status().as_u16())
        }
        Err(e) => panic!("upgrade failed without an HTTP answer: {e}"),
    }
}

/// The permission bits of `path` (`0o600` for a file only its owner may read).
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// `GET path` over TLS to `addr` as `name`, trusting what `config` trusts: the raw
/// response and the certificate chain the server sent.
pub async fn https_get(
    addr: SocketAddr,
    name: &str,
    config: Arc<rustls::ClientConfig>,
    path: &str,
) -> (String, Vec<rustls::pki_types::CertificateDer<'static>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let server_name = ServerName::try_from(name.to_string()).expect("server name");
    let mut tls = tokio::time::timeout(
        WAIT,
        tokio_rustls::TlsConnector::from(config).connect(server_name, tcp),
    )
    .await
    .expect("handshake timeout")
    .unwrap_or_else(|e| panic!("TLS handshake as {name}: {e}"));
    let chain: Vec<CertificateDer<'static>> = tls
        .get_ref()
        .1
        .peer_certificates()
        .expect("certificates")
        .iter()
        .map(|c| c.clone().into_owned())
        .collect();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n");
    tls.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(WAIT, tls.read_to_end(&mut buf))
        .await
        .expect("read timeout");
    (String::from_utf8_lossy(&buf).into_owned(), chain)
}

/// The value of the header `name` (lower case) among `headers`.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
