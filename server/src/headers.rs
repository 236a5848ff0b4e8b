//! Security headers on every response. The `Content-Security-Policy` is what keeps an
//! injected `<script>` or a foreign frame from running the app: scripts come only from
//! this server, the one inline script Trunk writes into `index.html` is allowed by its
//! hash (computed at start from the embedded file, so it follows every rebuild), the
//! WebAssembly module may be compiled (`'wasm-unsafe-eval'`), and no other site may
//! frame the app. Inline *styles* stay allowed: the app sets `style` attributes (an
//! image's `aspect-ratio`), which `style-src` without `'unsafe-inline'` would block.
//! `Referrer-Policy: no-referrer`: a link opened from a chat message tells the other
//! site nothing about where it came from.

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// The headers, built once at start.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    csp: HeaderValue,
}

impl SecurityHeaders {
    /// The headers for the embedded app.
    pub fn new() -> anyhow::Result<SecurityHeaders> {
        let csp = csp(&crate::assets::inline_script_hashes());
        Ok(SecurityHeaders {
            csp: HeaderValue::from_str(&csp)?,
        })
    }
}

/// The policy, with `'sha256-…'` sources for the inline scripts.
pub fn csp(script_hashes: &[String]) -> String {
    let mut script = String::from("script-src 'self' 'wasm-unsafe-eval'");
    for hash in script_hashes {
        script.push_str(&format!(" 'sha256-{hash}'"));
    }
    [
        "default-src 'self'",
        &script,
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self' ws: wss:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ]
    .join("; ")
}

/// The middleware: adds the headers to whatever the router answered.
pub async fn layer(
    State(headers): State<Arc<SecurityHeaders>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // On every response, not only HTML: a `304` for `index.html` has no content type,
    // and the policy does nothing to scripts, images or JSON. A handler that set a
    // stricter policy of its own (stored files: `uploads::download`) keeps it.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            HeaderName::from_static("content-security-policy"),
            headers.csp.clone(),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_lists_the_hashes_and_no_unsafe_inline_script() {
        let policy = csp(&["abc=".to_string()]);
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc='"));
        assert!(policy.contains("frame-ancestors 'none'"));
        let script = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_default();
        assert!(!script.contains("unsafe-inline"));
    }
}
