//! The seed's own `WorkspaceWebSocket` class, run unchanged in Node (with the `ws`
//! package) against Parlor: it connects, sends, receives, sets presence and types,
//! and reconnects by itself after the server is killed and restarted.

mod common;

use common::Server;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn the_seed_workspace_class_works_against_parlor_and_survives_a_restart() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    assert!(
        root.join("end2end/node_modules/ws").is_dir(),
        "run `npm ci` in end2end/ first (scripts/dev test does)"
    );
    let mut server = Server::start();
    let mut node = Command::new("node")
        .arg(root.join("end2end/dialects/workspace-class.mjs"))
        .arg(server.url("/ws/workspace"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node is installed");
    let stdout = node.stdout.take().expect("stdout");
    let mut output = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read");
        if line == "RESTART" {
            server.crash_and_restart_same_port();
        }
        output.push(line);
    }
    let status = node.wait().expect("node exits");
    assert!(
        status.success() && output.iter().any(|l| l == "PASS"),
        "{}",
        output.join("\n")
    );
}
