//! Image uploads, stored under `--data/uploads`.
//!
//! `POST /api/uploads` takes one image as the request body (`Authorization: Bearer
//! <session token>`, optional `X-Filename`), checks its type by its first bytes and its
//! size, reads its width and height, stores it, and answers the attachment to put in a
//! `new` message (seed 003's shape). `GET /uploads/<name>` serves stored files.

use crate::hub::Hub;
use app::protocol::{codes, Attachment, AttachmentMeta, ErrorBody};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// Where uploads live and how large they may be.
#[derive(Clone)]
pub struct Uploads {
    pub hub: Arc<Hub>,
    pub dir: PathBuf,
    pub max_bytes: usize,
}

/// The image types accepted: (mimetype, extension).
const KINDS: &[(&str, &str)] = &[
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
    ("image/gif", "gif"),
    ("image/webp", "webp"),
];

/// The type of an image by its first bytes (`imagesize` knows the signatures).
fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    use imagesize::ImageType;
    let kind = match imagesize::image_type(bytes).ok()? {
        ImageType::Png => 0,
        ImageType::Jpeg => 1,
        ImageType::Gif => 2,
        ImageType::Webp => 3,
        _ => return None,
    };
    KINDS.get(kind).copied()
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body =
        serde_json::json!({ "error": ErrorBody { code: code.into(), message: message.into() } });
    (status, Json(body)).into_response()
}

pub async fn upload(State(up): State<Uploads>, headers: HeaderMap, body: Body) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let owner = match token {
        Some(t) => match up.hub.token_owner(t).await {
            Ok(owner) => owner,
            Err(refusal) => {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    codes::INTERNAL,
                    refusal.to_string(),
                )
            }
        },
        None => None,
    };
    let Some(owner) = owner else {
        return error(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHORIZED,
            "log in first (Authorization: Bearer <token>)",
        );
    };
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::BAD_REQUEST,
            format!("an image has at most {} bytes", up.max_bytes),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > up.max_bytes as u64) {
        return too_large();
    }
    // Only now is the body read, and never more than the limit (plus one byte, to
    // tell "at the limit" from "over it").
    let body = match axum::body::to_bytes(body, up.max_bytes.saturating_add(1)).await {
        Ok(body) if body.len() <= up.max_bytes => body,
        Ok(_) => return too_large(),
        Err(e) => {
            tracing::debug!(error = %e, "upload body not read");
            return too_large();
        }
    };
    let Some((mimetype, ext)) = sniff(&body) else {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::BAD_REQUEST,
            "only PNG, JPEG, GIF and WebP images can be uploaded",
        );
    };
    let Ok(size) = imagesize::blob_size(&body) else {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::BAD_REQUEST,
            "this image cannot be read",
        );
    };
    let mut raw = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
    let id = data_encoding::HEXLOWER.encode(&raw);
    let name = format!("{id}.{ext}");
    let filename = headers
        .get("x-filename")
        .and_then(|v| v.to_str().ok())
        .map(|f| {
            // At most the bytes a `new` message accepts in an attachment's filename,
            // cut at a character boundary.
            let mut name = String::new();
            for c in f.chars().filter(|c| !c.is_control()) {
                if name.len() + c.len_utf8() > app::protocol::MAX_ATTACHMENT_FILENAME {
                    break;
                }
                name.push(c);
            }
            name
        })
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| format!("image.{ext}"));
    let (dir, file_name, len) = (up.dir.clone(), name.clone(), body.len());
    let stored = tokio::task::spawn_blocking(move || store_file(&dir, &file_name, &body)).await;
    if !matches!(stored, Ok(Ok(()))) {
        tracing::error!(?stored, "cannot store an upload");
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            "the image could not be stored",
        );
    }
    tracing::info!(user = %owner, file = %name, bytes = len, "image uploaded");
    let attachment = Attachment {
        kind: "image".into(),
        id,
        filename,
        url: format!("/uploads/{name}"),
        meta: AttachmentMeta {
            mimetype: mimetype.into(),
            width: u32::try_from(size.width).ok(),
            height: u32::try_from(size.height).ok(),
            size: Some(len as u64),
        },
    };
    (StatusCode::CREATED, Json(attachment)).into_response()
}

/// Writes to a temporary file, syncs it, then renames it into place.
fn store_file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    crate::private::dir(dir)?;
    let tmp = dir.join(format!(".{name}.part"));
    let mut file = crate::private::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))
}

pub async fn download(State(up): State<Uploads>, Path(name): Path<String>) -> Response {
    let valid = name.split_once('.').is_some_and(|(id, ext)| {
        id.len() == 32
            && id.chars().all(|c| c.is_ascii_hexdigit())
            && KINDS.iter().any(|(_, e)| *e == ext)
    });
    if !valid {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let ext = name.rsplit('.').next().unwrap_or("");
    let mime = KINDS
        .iter()
        .find(|(_, e)| *e == ext)
        .map_or("application/octet-stream", |(m, _)| m);
    match tokio::fs::read(up.dir.join(&name)).await {
        Ok(bytes) => {
            let mut response = Response::new(axum::body::Body::from(bytes));
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            response
        }
        Err(_) => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
