//! Several nodes for the cluster tests: three `parlor serve` processes on one fresh
//! PostgreSQL database, HAProxy in front of them, and a `nats-server` of the test's
//! own when the nodes share a bus.

use super::{Client, Launch, Server};
use serde_json::json;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Three nodes on one fresh database, and HAProxy in front of them.
pub struct Cluster {
    pub nodes: Vec<Server>,
    pub proxy: Proxy,
    /// The nodes' database.
    pub url: String,
}

/// HAProxy balancing WebSockets round-robin over the nodes; stopped when dropped.
pub struct Proxy {
    pub addr: SocketAddr,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Proxy {
    pub fn start(backends: &[SocketAddr]) -> Proxy {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, a)| format!("    server node{i} {a} check inter 500ms fall 2 rise 1\n"))
            .collect();
        let config = format!(
            "global\n    maxconn 2000\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    timeout server 60s\n    timeout tunnel 1h\n\
             frontend parlor\n    bind 127.0.0.1:{port}\n    default_backend nodes\n\
             backend nodes\n    balance roundrobin\n    option httpchk GET /healthz\n    retries 3\n    option redispatch\n{servers}"
        );
        let file = dir.path().join("haproxy.cfg");
        std::fs::write(&file, config).expect("write haproxy.cfg");
        let child = Command::new("haproxy")
            .arg("-f")
            .arg(&file)
            .arg("-db")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy (Debian's haproxy package)");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        for _ in 0..100 {
            if std::net::TcpStream::connect(addr).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Let the health checks see every node up.
        std::thread::sleep(Duration::from_millis(1200));
        Proxy {
            addr,
            child,
            _dir: dir,
        }
    }
}

/// A `nats-server` of the test's own on a loopback port; stopped when dropped.
pub struct Nats {
    port: u16,
    child: Option<Child>,
}

impl Nats {
    pub fn start() -> Nats {
        let mut nats = Nats {
            port: free_port(),
            child: None,
        };
        nats.resume();
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts it (again) on its port.
    pub fn resume(&mut self) {
        let child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server (Debian's nats-server package)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nats-server did not listen on {}", self.port);
    }

    /// Kills it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Cluster {
    pub fn start() -> Cluster {
        Cluster::start_with(&[])
    }

    /// Three nodes started with `args` as well.
    pub fn start_with(args: &[&str]) -> Cluster {
        Cluster::on(super::fresh_pg_database("cluster"), args)
    }

    /// Three nodes on the database `url`, started with `args` as well.
    pub fn on(url: String, args: &[&str]) -> Cluster {
        let nodes: Vec<Server> = (0..3)
            .map(|_| {
                let mut all = vec!["--store", url.as_str()];
                all.extend_from_slice(args);
                Server::launch(Launch::default(), &all)
            })
            .collect();
        let proxy = Proxy::start(&nodes.iter().map(|n| n.addr).collect::<Vec<_>>());
        Cluster { nodes, proxy, url }
    }

    /// A client through HAProxy, logged in as `name` and subscribed from the start.
    pub async fn online_via_proxy(&self, name: &str) -> Client {
        let mut c = Client::connect_waiting(
            &format!("ws://{}/ws", self.proxy.addr),
            Duration::from_secs(10),
        )
        .await;
        let r = c
            .request(
                "auth",
                json!({"username": name, "password": format!("password-{name}")}),
            )
            .await;
        assert!(r.get("error").is_none(), "login of {name}: {r}");
        let r = c.request("subscribe", json!({"lastEventId": 0})).await;
        let missed = r["payload"]["missed"].as_u64().expect("missed");
        for _ in 0..missed {
            c.next_logged().await;
        }
        c
    }
}

/// Three nodes joined by a bus of their own.
pub fn cluster_with_bus(args: &[&str]) -> (Cluster, Nats) {
    let nats = Nats::start();
    let url = nats.url();
    let mut all = vec!["--bus", url.as_str()];
    all.extend_from_slice(args);
    (Cluster::start_with(&all), nats)
}
