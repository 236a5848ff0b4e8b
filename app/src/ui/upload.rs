//! File uploads: `POST /api/uploads` with the session token, answered with the
//! attachment to send in a message. Any file is sent; the server reads its type.

use crate::protocol::Attachment;
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[derive(Deserialize)]
struct ErrorAnswer {
    error: crate::protocol::ErrorBody,
}

fn js(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "the upload failed".to_owned())
}

/// `X-Filename` must be a valid header value: the name, percent-encoded as UTF-8 (the
/// server decodes and cleans it).
fn header_filename(name: &str) -> String {
    String::from(js_sys::encode_uri_component(name))
}

/// Uploads one file; the error is a sentence for the user.
pub async fn upload(token: &str, file: &web_sys::File) -> Result<Attachment, String> {
    let window = web_sys::window().ok_or("no window")?;
    let headers = web_sys::Headers::new().map_err(js)?;
    headers
        .set("Authorization", &format!("Bearer {token}"))
        .map_err(js)?;
    headers
        .set("X-Filename", &header_filename(&file.name()))
        .map_err(js)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(file);
    let request = web_sys::Request::new_with_str_and_init("/api/uploads", &init).map_err(js)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| "Could not reach the server to upload.".to_owned())?
        .dyn_into()
        .map_err(js)?;
    let text = JsFuture::from(response.text().map_err(js)?)
        .await
        .map_err(js)?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        serde_json::from_str::<Attachment>(&text)
            .map_err(|e| format!("unexpected answer from the server: {e}"))
    } else {
        Err(serde_json::from_str::<ErrorAnswer>(&text)
            .map(|a| a.error.message)
            .unwrap_or_else(|_| format!("the upload failed ({})", response.status())))
    }
}
