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
