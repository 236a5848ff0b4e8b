//! Start-up: the command line, and clear errors for a bad data directory.

use std::process::Command;

fn parlor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parlor"))
}

#[test]
fn help_names_the_serve_command_and_its_flags() {
    let out = parlor().arg("--help").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("serve"), "{text}");
    let out = parlor().args(["serve", "--help"]).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--bind",
        "--data",
        "PARLOR_BIND",
        "PARLOR_DATA",
        "--rate-limit",
        "--idle-timeout",
        "--tls-cert",
        "--tls-key",
        "--tls-self-signed",
        "--no-mdns",
        "--no-qr",
    ] {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
}

#[test]
fn a_data_path_that_is_a_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let out = parlor()
        .args(["serve", "--bind", "127.0.0.1:0", "--data"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot use the data directory"), "{err}");
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = rusqlite::Connection::open(dir.path().join("parlor.db")).expect("open");
    conn.pragma_update(None, "user_version", 999)
        .expect("pragma");
    drop(conn);
    let out = parlor()
        .args(["serve", "--bind", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("newer Parlor"), "{err}");
}

#[test]
fn the_data_directory_is_created_when_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("a/b/parlor-data");
    let mut child = parlor()
        .args(["serve", "--bind", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let first = lines.next().expect("a line").expect("read");
    assert!(
        first.starts_with("parlor listening on http://127.0.0.1:"),
        "{first}"
    );
    assert!(data.join("parlor.db").is_file());
    let _ = child.kill();
    let _ = child.wait();
}

/// Starts `parlor serve` with `args`, reads `lines` lines of its stdout (all of it
/// when `None`: the process is stopped first), and stops it.
fn banner(args: &[&str], lines: Option<usize>) -> Vec<String> {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = parlor()
        .args(["serve", "--no-mdns", "--data"])
        .arg(dir.path())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = std::io::BufReader::new(stdout).lines();
    let mut out = Vec::new();
    match lines {
        Some(n) => {
            for _ in 0..n {
                out.push(reader.next().expect("a line").expect("read"));
            }
            let _ = child.kill();
        }
        None => {
            // The banner is out once the first line is; give the rest a moment.
            out.push(reader.next().expect("a line").expect("read"));
            std::thread::sleep(std::time::Duration::from_millis(300));
            let _ = child.kill();
            out.extend(reader.map_while(Result::ok));
        }
    }
    let _ = child.wait();
    out
}

#[test]
fn the_banner_has_a_qr_code_of_the_first_lan_url() {
    let lan = server::lan::reachable_ips("0.0.0.0".parse().expect("ip"));
    // The project's machines and CI have a LAN address; without one there is no QR
    // code to test, and the test says so instead of passing.
    let first = lan
        .first()
        .expect("this machine has no LAN address: the QR code cannot be tested here");
    // listening, "Open…", the LAN URLs, localhost, "Or scan…", then the code.
    let lines = banner(&["--bind", "0.0.0.0:0"], Some(lan.len() + 5));
    let port: u16 = lines[0]
        .strip_prefix("parlor listening on http://0.0.0.0:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{}", lines[0]));
    let url = server::lan::url(server::lan::Scheme::Http, *first, port);
    assert_eq!(lines[2], format!("  {url}"));
    let scan = &lines[lan.len() + 3];
    assert_eq!(scan, &format!("Or scan this with a phone to open {url}:"));
    // The top of the quiet zone, then the code's first row.
    let top = &lines[lan.len() + 4];
    assert!(
        top.chars().count() >= 29 && top.chars().all(|c| c == '█'),
        "{top}"
    );
}

#[test]
fn with_parlors_authority_the_qr_code_leads_to_the_trust_page_over_plain_http() {
    let lan = server::lan::reachable_ips("0.0.0.0".parse().expect("ip"));
    let first = lan
        .first()
        .expect("this machine has no LAN address: the QR code cannot be tested here");
    let n = lan.len();
    // listening, "First trust…", trust URLs (LAN and localhost), "Then open…", app URLs,
    // the authority and its fingerprint, "Or scan…", then the code.
    let lines = banner(
        &["--bind", "0.0.0.0:0", "--tls-self-signed"],
        Some(2 * n + 9),
    );
    let port: u16 = lines[0]
        .strip_prefix("parlor listening on https://0.0.0.0:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{}", lines[0]));
    let trust = format!(
        "{}trust",
        server::lan::url(server::lan::Scheme::Http, *first, port)
    );
    let app = server::lan::url(server::lan::Scheme::Https, *first, port);
    assert_eq!(lines[2], format!("  {trust}"), "{lines:#?}");
    assert!(lines.contains(&format!("  {app}")), "{lines:#?}");
    assert!(
        lines[2 * n + 5].starts_with("Certificate authority: Parlor local CA "),
        "{lines:#?}"
    );
    let fingerprint = lines[2 * n + 6]
        .trim()
        .strip_prefix("SHA-256 ")
        .expect("fingerprint");
    assert_eq!(fingerprint.len(), 32 * 3 - 1, "{fingerprint}");
    assert_eq!(
        lines[2 * n + 7],
        format!("Or scan this with a phone to open {trust}:")
    );
}

#[test]
fn no_qr_or_no_lan_address_prints_no_code() {
    for args in [
        &["--bind", "0.0.0.0:0", "--no-qr"][..],
        &["--bind", "127.0.0.1:0"][..],
    ] {
        let lines = banner(args, None);
        assert!(
            lines[0].starts_with("parlor listening on http://"),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("localhost") || l.contains("127.0.0.1")),
            "{lines:?}"
        );
        assert!(
            !lines.iter().any(|l| l.contains("scan") || l.contains('█')),
            "{args:?}: {lines:?}"
        );
    }
}
