//! How the web app shows a file: its size for people ("1.2 MB") and the short badge
//! that stands for its kind on a file card ("PDF", "ZIP", …). Plain Rust, tested
//! natively.

/// A size in bytes as people read it: `512 B`, `1.2 KB`, `34 MB` (1 KB = 1024 B).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    if size < 10.0 {
        format!("{size:.1} {}", UNITS[unit])
    } else {
        format!("{size:.0} {}", UNITS[unit])
    }
}

/// The badge of a file card: the extension of its name in capitals (at most four
/// characters), or `FILE`.
pub fn badge(filename: &str) -> String {
    filename
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| {
            !ext.is_empty() && ext.len() <= 4 && ext.chars().all(|c| c.is_ascii_alphanumeric())
        })
        .map_or_else(|| "FILE".to_owned(), str::to_ascii_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_say_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(10 << 20), "10 MB");
    }

    #[test]
    fn badges_come_from_the_extension() {
        assert_eq!(badge("minutes.pdf"), "PDF");
        assert_eq!(badge("archive.tar.gz"), "GZ");
        assert_eq!(badge("README"), "FILE");
        assert_eq!(badge("weird.<script>"), "FILE");
    }
}
