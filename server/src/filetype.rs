//! What an uploaded file is, and how it may be served. A file's type is read from its
//! first bytes, never from the name or the `Content-Type` the client declared: only
//! raster images (PNG, JPEG, GIF, WebP) and the audio and video browsers play
//! (MP3, Ogg/Opus, WAV, M4A, MP4, WebM) are served inline with their type; a PDF is
//! served as `application/pdf` but only as an attachment, and everything else
//! (SVG and HTML included, which could run script in the server's origin) as
//! `application/octet-stream`, always as an attachment. The signatures are a short
//! list written out here rather than a general detector (such as the `infer` crate):
//! the question is only "is it one of these few", and anything else is served the
//! same safe way whatever it is.
//!
//! Also here: the name a file was sent with, cleaned (`clean_filename`), and the
//! `Content-Disposition` that gives it back (RFC 6266, with RFC 5987's `filename*`).

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// How a stored file is shown and served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    Audio,
    Video,
    /// Anything else: downloaded, never shown.
    File,
}

impl Kind {
    /// The attachment `type` of seed 003's shape.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Audio => "audio",
            Kind::Video => "video",
            Kind::File => "file",
        }
    }
}

/// What the first bytes of a file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    pub kind: Kind,
    pub mimetype: &'static str,
    /// The extension of the stored file's name.
    pub ext: &'static str,
}

const fn sniffed(kind: Kind, mimetype: &'static str, ext: &'static str) -> Sniffed {
    Sniffed {
        kind,
        mimetype,
        ext,
    }
}

/// A file that is none of the recognised types.
pub const OTHER: Sniffed = sniffed(Kind::File, "application/octet-stream", "bin");

/// The type of a file by its first bytes.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    use imagesize::ImageType;
    match imagesize::image_type(bytes) {
        Ok(ImageType::Png) => return sniffed(Kind::Image, "image/png", "png"),
        Ok(ImageType::Jpeg) => return sniffed(Kind::Image, "image/jpeg", "jpg"),
        Ok(ImageType::Gif) => return sniffed(Kind::Image, "image/gif", "gif"),
        Ok(ImageType::Webp) => return sniffed(Kind::Image, "image/webp", "webp"),
        _ => {}
    }
    let at = |i: usize, sig: &[u8]| bytes.get(i..i + sig.len()) == Some(sig);
    if at(0, b"%PDF-") {
        return sniffed(Kind::File, "application/pdf", "pdf");
    }
    if at(0, b"OggS") {
        return sniffed(Kind::Audio, "audio/ogg", "ogg");
    }
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return sniffed(Kind::Audio, "audio/wav", "wav");
    }
    if at(0, b"ID3") || is_mpeg_audio_frame(bytes) {
        return sniffed(Kind::Audio, "audio/mpeg", "mp3");
    }
    if at(4, b"ftyp") {
        return match bytes.get(8..12) {
            Some(b"M4A " | b"M4B ") => sniffed(Kind::Audio, "audio/mp4", "m4a"),
            Some(
                b"isom" | b"iso2" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42" | b"avc1"
                | b"dash" | b"M4V ",
            ) => sniffed(Kind::Video, "video/mp4", "mp4"),
            _ => OTHER,
        };
    }
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        // Matroska; WebM says so in its DocType, near the start.
        let head = &bytes[..bytes.len().min(64)];
        if head.windows(4).any(|w| w == b"webm") {
            return sniffed(Kind::Video, "video/webm", "webm");
        }
    }
    OTHER
}

/// An MPEG-1/2 audio frame header (an MP3 without ID3 tag): 11 sync bits, a known
/// version, layer III.
fn is_mpeg_audio_frame(bytes: &[u8]) -> bool {
    match bytes {
        [0xFF, b, ..] => b & 0xE0 == 0xE0 && b & 0x18 != 0x08 && b & 0x06 == 0x02,
        _ => false,
    }
}

/// The kind of stored file an extension stands for, with its served type.
pub fn by_ext(ext: &str) -> Sniffed {
    const ALL: &[Sniffed] = &[
        sniffed(Kind::Image, "image/png", "png"),
        sniffed(Kind::Image, "image/jpeg", "jpg"),
        sniffed(Kind::Image, "image/gif", "gif"),
        sniffed(Kind::Image, "image/webp", "webp"),
        sniffed(Kind::Audio, "audio/mpeg", "mp3"),
        sniffed(Kind::Audio, "audio/ogg", "ogg"),
        sniffed(Kind::Audio, "audio/wav", "wav"),
        sniffed(Kind::Audio, "audio/mp4", "m4a"),
        sniffed(Kind::Video, "video/mp4", "mp4"),
        sniffed(Kind::Video, "video/webm", "webm"),
        sniffed(Kind::File, "application/pdf", "pdf"),
    ];
    ALL.iter().copied().find(|s| s.ext == ext).unwrap_or(OTHER)
}

/// Whether `ext` ends the name of a stored file of one of these kinds.
pub fn is_stored_ext(ext: &str) -> bool {
    ext == OTHER.ext || by_ext(ext).ext == ext
}

/// The name a file was sent with (`X-Filename`, percent-encoded UTF-8 so that any
/// name fits in a header), cleaned: no control, invisible or direction-changing
/// characters, no path separators (`/`, `\` become `_`), no leading dots or blanks, at
/// most `max` bytes cut at a character boundary. `None` when nothing is left. The
/// name is shown and sent back in `Content-Disposition`; it never names a file on disk.
pub fn clean_filename(raw: &str, max: usize) -> Option<String> {
    let decoded = percent_decode_str(raw).decode_utf8_lossy();
    let mut name = String::new();
    for c in decoded.chars() {
        if c.is_control() || app::protocol::is_hidden_char(c) {
            continue;
        }
        let c = if matches!(c, '/' | '\\') { '_' } else { c };
        if name.is_empty() && (c == '.' || c.is_whitespace()) {
            continue;
        }
        if name.len() + c.len_utf8() > max {
            break;
        }
        name.push(c);
    }
    let name = name.trim_end().to_owned();
    (!name.is_empty()).then_some(name)
}

/// RFC 5987 `attr-char`s stay as they are; everything else is percent-encoded.
const ATTR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment; filename="…"; filename*=UTF-8''…` (or `inline; …`): the quoted
/// name is an ASCII fallback (other characters, quotes and backslashes become `_`)
/// for old clients; `filename*` carries the exact name.
pub fn disposition(inline: bool, filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        utf8_percent_encode(filename, ATTR)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_vector_images_are_plain_files() {
        for bytes in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'/>"[..],
            b"<!DOCTYPE html><script>alert(1)</script>",
            b"<?xml version='1.0'?><svg/>",
        ] {
            assert_eq!(sniff(bytes), OTHER);
        }
    }

    #[test]
    fn recognises_the_inline_kinds_and_pdf() {
        assert_eq!(sniff(b"%PDF-1.7\n").mimetype, "application/pdf");
        assert_eq!(sniff(b"%PDF-1.7\n").kind, Kind::File);
        assert_eq!(sniff(b"OggS\0\x02").kind, Kind::Audio);
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt ").ext, "wav");
        assert_eq!(sniff(b"ID3\x04\0").ext, "mp3");
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x00]).ext, "mp3");
        assert_eq!(
            sniff(&[0xFF, 0xF1, 0x50, 0x80]),
            OTHER,
            "AAC ADTS is not layer III"
        );
        assert_eq!(sniff(b"\0\0\0\x20ftypisom\0\0\x02\0").ext, "mp4");
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A \0\0\x02\0").ext, "m4a");
        assert_eq!(sniff(b"\0\0\0\x18ftypheic").ext, "bin");
        assert_eq!(
            sniff(b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm").ext,
            "webm"
        );
        assert_eq!(
            sniff(b"\x1A\x45\xDF\xA3\x9F\x42\x82\x88matroska").ext,
            "bin"
        );
    }

    #[test]
    fn names_lose_separators_controls_and_leading_dots() {
        assert_eq!(
            clean_filename("../../etc/passwd", 255).as_deref(),
            Some("_.._etc_passwd")
        );
        assert_eq!(
            clean_filename("a\u{202e}b\r\n.pdf", 255).as_deref(),
            Some("ab.pdf")
        );
        assert_eq!(
            clean_filename("%C3%A9t%C3%A9.pdf", 255).as_deref(),
            Some("été.pdf")
        );
        assert_eq!(clean_filename("  ..  ", 255), None);
        assert_eq!(
            clean_filename(&"é".repeat(200), 255).map(|n| n.len()),
            Some(254)
        );
    }

    #[test]
    fn disposition_has_an_ascii_fallback_and_the_exact_name() {
        assert_eq!(
            disposition(false, "Procès \"verbal\".pdf"),
            "attachment; filename=\"Proc_s _verbal_.pdf\"; filename*=UTF-8''Proc%C3%A8s%20%22verbal%22.pdf"
        );
    }
}
