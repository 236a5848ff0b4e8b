//! A QR code drawn with Unicode half blocks, for a phone to scan off the terminal.

use qrcode::render::unicode::Dense1x2;
use qrcode::QrCode;

/// `text` as a QR code, two modules per character cell, with the quiet zone, ending
/// with a newline. Light modules are drawn as blocks so that the code reads dark on
/// light on the usual dark terminal. `None` if `text` is too long for a QR code.
pub fn render(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let mut out = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_renders_as_half_blocks() {
        let code = render("http://192.168.1.23:8080/").expect("a code");
        let lines: Vec<&str> = code.lines().collect();
        // Version 2 (25 modules) plus a 4-module quiet zone on each side: 33 columns,
        // two rows per line.
        assert_eq!(lines.len(), 17);
        assert!(lines.iter().all(|l| l.chars().count() == 33), "{code}");
        assert!(code
            .chars()
            .all(|c| matches!(c, '█' | '▀' | '▄' | ' ' | '\n')));
        // The quiet zone is light, drawn as full blocks.
        assert!(lines[0].chars().all(|c| c == '█'), "{}", lines[0]);
    }

    #[test]
    fn too_much_text_is_none() {
        assert!(render(&"x".repeat(8000)).is_none());
    }
}
