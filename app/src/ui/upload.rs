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

/// A picture cut to its centred square and scaled to `side`×`side` pixels, as WebP
/// (small on the wire: an avatar).
pub async fn square_picture(file: &web_sys::File, side: u32) -> Result<web_sys::Blob, String> {
    let window = web_sys::window().ok_or("no window")?;
    let bitmap: web_sys::ImageBitmap =
        JsFuture::from(window.create_image_bitmap_with_blob(file).map_err(js)?)
            .await
            .map_err(|_| "That file is not a picture this browser can read.".to_owned())?
            .dyn_into()
            .map_err(js)?;
    let (w, h) = (f64::from(bitmap.width()), f64::from(bitmap.height()));
    let cut = w.min(h);
    let canvas = web_sys::OffscreenCanvas::new(side, side).map_err(js)?;
    let context: web_sys::OffscreenCanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(js)?
        .ok_or("no 2d canvas")?
        .dyn_into()
        .map_err(|_| "no 2d canvas".to_owned())?;
    let s = f64::from(side);
    context
        .draw_image_with_image_bitmap_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
            &bitmap,
            (w - cut) / 2.0,
            (h - cut) / 2.0,
            cut,
            cut,
            0.0,
            0.0,
            s,
            s,
        )
        .map_err(js)?;
    let options = web_sys::ImageEncodeOptions::new();
    options.set_type("image/webp");
    options.set_quality(0.85);
    JsFuture::from(canvas.convert_to_blob_with_options(&options).map_err(js)?)
        .await
        .map_err(js)?
        .dyn_into()
        .map_err(js)
}

/// `X-Filename` must be a valid header value: the name, percent-encoded as UTF-8 (the
/// server decodes and cleans it).
fn header_filename(name: &str) -> String {
    String::from(js_sys::encode_uri_component(name))
}

/// Uploads one file; the error is a sentence for the user.
pub async fn upload(token: &str, file: &web_sys::File) -> Result<Attachment, String> {
    upload_blob(token, file, &file.name()).await
}

/// Uploads `blob` under the name `name`.
pub async fn upload_blob(
    token: &str,
    blob: &web_sys::Blob,
    name: &str,
) -> Result<Attachment, String> {
    let window = web_sys::window().ok_or("no window")?;
    let headers = web_sys::Headers::new().map_err(js)?;
    headers
        .set("Authorization", &format!("Bearer {token}"))
        .map_err(js)?;
    headers
        .set("X-Filename", &header_filename(name))
        .map_err(js)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(blob);
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
