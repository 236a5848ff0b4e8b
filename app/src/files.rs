//! How the web app shows a file: its size for people ("1.2 MB") and the short badge
//! that stands for its kind on a file card ("PDF", "ZIP", …). Plain Rust, tested
//! natively.

/// A size in bytes as people read it: `512 B`, `1.5 KB`, `34 MB` (1 KB = 1024 B).
/// Integer arithmetic only: float formatting would add its tables to the web bundle.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // In tenths of the unit, rounded to the nearest.
    let mut unit = 0;
    let mut div: u128 = 1024;
    while u128::from(bytes) >= div * 1024 && unit + 1 < UNITS.len() {
        div *= 1024;
        unit += 1;
    }
    let tenths = (u128::from(bytes) * 10 + div / 2) / div;
    if tenths < 100 {
        format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
    } else {
        format!("{} {}", (tenths + 5) / 10, UNITS[unit])
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
