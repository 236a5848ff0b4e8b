//! Progress of a long command (`parlor backup`, `parlor restore`, `parlor export`) for
//! the person who runs it. On a terminal one line is redrawn in place, at most ten times a second:
//! the phase, items and bytes done of the total, the rate and the time left. Anywhere
//! else (a pipe, a log file, cron's mail) the same command prints plain lines instead,
//! one as each phase begins, with no carriage returns to garble a file. Either way the
//! command ends with a one-line summary, which the command prints itself (on stdout);
//! progress goes to stderr.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the terminal line is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);

/// The progress of one command, written to `out`.
pub struct Progress<W: Write> {
    out: W,
    /// Redraw one line in place (a terminal) or print a line per phase.
    tty: bool,
    command: &'static str,
    /// What an item is: `file` (backup, restore) or `message` (export).
    noun: &'static str,
    phase: &'static str,
    items: (u64, Option<u64>),
    bytes: (u64, Option<u64>),
    phase_started: Instant,
    drawn: Option<Instant>,
}

impl Progress<std::io::Stderr> {
    /// Progress on stderr, redrawn in place when stderr is a terminal.
    pub fn stderr(command: &'static str) -> Progress<std::io::Stderr> {
        let err = std::io::stderr();
        let tty = err.is_terminal();
        Progress::new(err, tty, command)
    }
}

impl<W: Write> Progress<W> {
    pub fn new(out: W, tty: bool, command: &'static str) -> Progress<W> {
        Progress {
            out,
            tty,
            command,
            noun: "file",
            phase: "",
            items: (0, None),
            bytes: (0, None),
            phase_started: Instant::now(),
            drawn: None,
        }
    }

    /// Counts items as `noun`s (`message`) rather than files.
    pub fn counting(mut self, noun: &'static str) -> Progress<W> {
        self.noun = noun;
        self
    }

    /// Begins a phase of `items` files and `bytes` bytes (when known).
    pub fn phase(&mut self, name: &'static str, items: Option<u64>, bytes: Option<u64>) {
        self.clear();
        self.phase = name;
        self.items = (0, items);
        self.bytes = (0, bytes);
        self.phase_started = Instant::now();
        self.drawn = None;
        if !self.tty {
            let line = plain_line_of(self.command, name, self.noun, items, bytes);
            // Progress is a courtesy: a closed stderr does not stop the work.
            let _ = writeln!(self.out, "{line}");
        }
    }

    /// Counts `items` more files and `bytes` more bytes done.
    pub fn advance(&mut self, items: u64, bytes: u64) {
        self.items.0 = self.items.0.saturating_add(items);
        self.bytes.0 = self.bytes.0.saturating_add(bytes);
        self.redraw();
    }

    /// Sets the bytes done (when they are measured rather than counted).
    pub fn set_bytes(&mut self, bytes: u64) {
        self.bytes.0 = bytes;
        self.redraw();
    }

    /// Clears the terminal line, before the summary is printed.
    pub fn finish(&mut self) {
        self.clear();
    }

    fn redraw(&mut self) {
        if !self.tty {
            return;
        }
        let now = Instant::now();
        if self.drawn.is_some_and(|at| now.duration_since(at) < REDRAW) {
            return;
        }
        self.drawn = Some(now);
        let line = tty_line(
            self.command,
            self.phase,
            self.noun,
            self.items,
            self.bytes,
            now.duration_since(self.phase_started),
        );
        let _ = write!(self.out, "\r\x1b[2K{line}");
        let _ = self.out.flush();
    }

    fn clear(&mut self) {
        if self.tty && self.drawn.is_some() {
            let _ = write!(self.out, "\r\x1b[2K");
            let _ = self.out.flush();
            self.drawn = None;
        }
    }
}

/// The plain line that begins a phase: `backup: copying uploads: 3 files, 1.2 MB`.
pub fn plain_line(command: &str, phase: &str, items: Option<u64>, bytes: Option<u64>) -> String {
    plain_line_of(command, phase, "file", items, bytes)
}

/// [`plain_line`] with items counted as `noun`s.
fn plain_line_of(
    command: &str,
    phase: &str,
    noun: &str,
    items: Option<u64>,
    bytes: Option<u64>,
) -> String {
    let mut parts = Vec::new();
    if let Some(n) = items {
        parts.push(count(n, noun));
    }
    if let Some(b) = bytes {
        parts.push(size(b));
    }
    if parts.is_empty() {
        format!("{command}: {phase}")
    } else {
        format!("{command}: {phase}: {}", parts.join(", "))
    }
}

/// The terminal line of a phase under way:
/// `backup: copying uploads: 2/3 files, 0.8 MB/1.2 MB, 4.1 MB/s, 1 s left`. The time
/// left comes from the bytes when their total is known, else from the items.
fn tty_line(
    command: &str,
    phase: &str,
    noun: &str,
    items: (u64, Option<u64>),
    bytes: (u64, Option<u64>),
    elapsed: Duration,
) -> String {
    let mut parts = Vec::new();
    match items {
        (done, Some(total)) => parts.push(format!("{done}/{}", count(total, noun))),
        (0, None) => {}
        (done, None) => parts.push(count(done, noun)),
    }
    match bytes {
        (done, Some(total)) => parts.push(format!("{}/{}", size(done), size(total))),
        (done, None) => parts.push(size(done)),
    }
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 && bytes.0 > 0 {
        let per_sec = bytes.0 as f64 / secs;
        parts.push(format!("{}/s", size(per_sec as u64)));
        if let Some(total) = bytes.1 {
            let left = total.saturating_sub(bytes.0) as f64 / per_sec;
            parts.push(format!("{} left", duration(Duration::from_secs_f64(left))));
        } else if let (done @ 1.., Some(total)) = items {
            let left = total.saturating_sub(done) as f64 * secs / done as f64;
            parts.push(format!("{} left", duration(Duration::from_secs_f64(left))));
        }
    }
    format!("{command}: {phase}: {}", parts.join(", "))
}

/// `1 file`, `3 files`.
pub fn files(n: u64) -> String {
    count(n, "file")
}

/// `1 message`, `3 messages`: `n` of a `thing` whose plural takes an `s`.
pub fn count(n: u64, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// A size for people, in decimal units: `512 B`, `1.2 KB`, `3.4 MB`, `1.0 GB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A duration for people: `0.4 s`, `12 s`, `3 min 5 s`.
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 10.0 {
        format!("{secs:.1} s")
    } else if secs < 60.0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} min {} s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// The rate of `bytes` over `elapsed`: `4.1 MB/s`.
pub fn rate(bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    format!("{}/s", size((bytes as f64 / secs) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Not on a terminal: a plain line as each phase begins, nothing as work advances,
    /// no carriage return or escape sequence anywhere.
    #[test]
    fn on_a_pipe_each_phase_is_one_plain_line() {
        let mut out = Vec::new();
        let mut p = Progress::new(&mut out, false, "backup");
        p.phase("snapshot of the database", None, Some(2_500_000));
        p.set_bytes(1_000_000);
        p.phase("copying uploads", Some(3), Some(1_234));
        p.advance(1, 1_000);
        p.advance(2, 234);
        p.phase("checking the database", None, None);
        p.finish();
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "backup: snapshot of the database: 2.5 MB\n\
             backup: copying uploads: 3 files, 1.2 KB\n\
             backup: checking the database\n"
        );
    }

    /// On a terminal: one line redrawn in place with items, bytes, rate and time left,
    /// cleared before the summary.
    #[test]
    fn on_a_terminal_one_line_is_redrawn() {
        let mut out = Vec::new();
        let mut p = Progress::new(&mut out, true, "restore");
        p.phase("reading the archive", Some(4), Some(4_000_000));
        std::thread::sleep(Duration::from_millis(20));
        p.advance(1, 1_000_000);
        p.finish();
        let text = String::from_utf8(out).expect("utf-8");
        assert!(
            text.starts_with("\r\x1b[2Krestore: reading the archive: 1/4 files, 1.0 MB/4.0 MB, "),
            "{text:?}"
        );
        assert!(
            text.contains("MB/s, ") && text.contains(" s left"),
            "{text:?}"
        );
        assert!(text.ends_with("\r\x1b[2K"), "{text:?}");
        assert!(!text.contains('\n'), "{text:?}");
    }

    /// Counting messages with no byte total (an export): the items are named as such,
    /// and the time left comes from them.
    #[test]
    fn items_of_another_kind_give_the_time_left() {
        let mut out = Vec::new();
        let mut p = Progress::new(&mut out, true, "export").counting("message");
        p.phase("writing", Some(1000), None);
        std::thread::sleep(Duration::from_millis(20));
        p.advance(250, 50_000);
        p.finish();
        let text = String::from_utf8(out).expect("utf-8");
        assert!(
            text.starts_with("\r\x1b[2Kexport: writing: 250/1000 messages, 50.0 KB, "),
            "{text:?}"
        );
        assert!(text.contains(" s left"), "{text:?}");
        let mut out = Vec::new();
        let mut p = Progress::new(&mut out, false, "export").counting("message");
        p.phase("writing", Some(1), None);
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "export: writing: 1 message\n"
        );
    }

    #[test]
    fn sizes_and_durations_read_well() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1_000), "1.0 KB");
        assert_eq!(size(1_234_567), "1.2 MB");
        assert_eq!(size(999_990_000), "1.0 GB");
        assert_eq!(files(1), "1 file");
        assert_eq!(files(0), "0 files");
        assert_eq!(duration(Duration::from_millis(420)), "0.4 s");
        assert_eq!(duration(Duration::from_secs(12)), "12 s");
        assert_eq!(duration(Duration::from_secs(185)), "3 min 5 s");
        assert_eq!(rate(2_000_000, Duration::from_secs(2)), "1.0 MB/s");
    }
}
