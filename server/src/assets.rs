//! The web app, embedded in the binary: served with its content type, a precompressed
//! brotli or gzip copy when the browser accepts one, long cache lifetimes for hashed
//! files and `no-cache` for `index.html`. Unknown paths without a file extension get
//! `index.html`, so client-side routes work on reload.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "$OUT_DIR/dist"]
struct Bundle;

pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") || path == "api" || path.starts_with("ws/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let path = if path.is_empty() { "index.html" } else { path };
    let last = path.rsplit('/').next().unwrap_or(path);
    let path = if Bundle::get(path).is_some() {
        path
    } else if last.contains('.') {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    } else {
        "index.html"
    };
    file(path, &headers)
}

/// `GET /sw.js`: the service worker (`public/sw.js` of the bundle) at the root, so that
/// its scope is the whole app, with this build's version written into it: a new build
/// is a new worker, which replaces the app shell it keeps. Never cached by the browser
/// without asking (`no-cache`), as browsers expect of a worker script.
pub async fn service_worker() -> Response {
    static SCRIPT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let script = SCRIPT.get_or_init(|| {
        Bundle::get("public/sw.js").map(|file| {
            String::from_utf8_lossy(&file.data).replace("__PARLOR_VERSION__", &build_version())
        })
    });
    let Some(text) = script else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mut response = Response::new(Body::from(text.as_str()));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A digest of every file of the embedded bundle: changes with any of them.
fn build_version() -> String {
    use sha2::Digest;
    let mut names: Vec<_> = Bundle::iter().collect();
    names.sort();
    let mut digest = sha2::Sha256::new();
    for name in names {
        if let Some(file) = Bundle::get(&name) {
            digest.update(name.as_bytes());
            digest.update(file.metadata.sha256_hash());
        }
    }
    data_encoding::HEXLOWER.encode(&digest.finalize()[..8])
}

/// `GET /api/emoji`: the emoji of Unicode with their names (`emoji.json`, written at
/// build time beside the bundle), for the web app's picker, compressed and cacheable.
pub async fn emoji(headers: HeaderMap) -> Response {
    file("emoji.json", &headers)
}

fn file(path: &str, headers: &HeaderMap) -> Response {
    let Some(raw) = Bundle::get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let etag = format!(
        "\"{}\"",
        data_encoding::HEXLOWER.encode(&raw.metadata.sha256_hash()[..12])
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let accepts = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (body, encoding) = [("br", "br"), ("gzip", "gz")]
        .iter()
        .filter(|(name, _)| accepts.split(',').any(|e| e.trim().starts_with(name)))
        .find_map(|(name, ext)| {
            Bundle::get(&format!("{path}.{ext}")).map(|f| (f.data, Some(*name)))
        })
        .unwrap_or((raw.data, None));
    let mime = mime_type(path);
    let cache = if path == "index.html" {
        "no-cache"
    } else if is_hashed(path) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    let mut response = Response::new(Body::from(body.into_owned()));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Some(enc) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
    }
    response
}

fn mime_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Trunk names bundle files `name-<16 hex digits>.ext`.
fn is_hashed(path: &str) -> bool {
    let stem = path.rsplit('/').next().unwrap_or(path);
    let stem = stem.split('.').next().unwrap_or(stem);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, h)| h.len() >= 16 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The base64 SHA-256 of each inline script in the embedded `index.html` (Trunk writes
/// one that loads the WebAssembly module), for the `Content-Security-Policy`.
pub fn inline_script_hashes() -> Vec<String> {
    use sha2::Digest;
    let Some(index) = Bundle::get("index.html") else {
        return Vec::new();
    };
    inline_scripts(&String::from_utf8_lossy(&index.data))
        .into_iter()
        .map(|script| data_encoding::BASE64.encode(&sha2::Sha256::digest(script.as_bytes())))
        .collect()
}

/// The exact text of each `<script>` without a `src` in `html`.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let tag = &after[..open_end];
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</script") else {
            break;
        };
        if !tag.contains("src=") {
            scripts.push(&body[..close]);
        }
        rest = &body[close..];
    }
    scripts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_file_names_count_as_hashed() {
        assert!(is_hashed("frontend-3f2a9c0d1e2b4a5f.js"));
        assert!(is_hashed("frontend-3f2a9c0d1e2b4a5f_bg.wasm"));
        assert!(is_hashed("main-0123456789abcdef.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("favicon.svg"));
    }

    #[test]
    fn inline_scripts_are_found_exactly() {
        let html = "<head><script src=\"/a.js\"></script>\n<script type=\"module\">\nlet a = 1;\n</script><script>b()</script></head>";
        assert_eq!(inline_scripts(html), vec!["\nlet a = 1;\n", "b()"]);
    }

    #[test]
    fn the_embedded_index_has_its_inline_script_hashed() {
        let hashes = inline_script_hashes();
        assert!(!hashes.is_empty());
        assert!(hashes.iter().all(|h| h.len() == 44 && h.ends_with('=')));
    }
}
