//! File uploads, kept by the store (SQLite's under `--data/uploads`, PostgreSQL's in
//! the database, where every node finds them).
//!
//! `POST /api/uploads` takes one file of any type as the request body (`Authorization:
//! Bearer <session token>`, optional `X-Filename`), checks its size, reads its type by
//! its first bytes (`filetype`; an image's width and height too), stores it, and
//! answers the attachment to put in a `new` message (seed 003's shape). `GET
//! /uploads/<name>` serves stored files: the inline-safe kinds with their type, the
//! rest as attachments under the name they were sent with.
//!
//! Uploads cost disk space that other users share, so each user has a budget of
//! uploads per window (kept here, in memory) and a quota of stored bytes (counted by
//! the store, which records every upload's owner and size and which messages refer to
//! it). A sweeper removes the files no message refers to: at once when the last such
//! message was deleted, edited or cleared, otherwise after a grace period (a file
//! uploaded and never sent).

use crate::domain::{is_upload_name, now_ms, UserKey};
use crate::filetype::{self, Kind};
use crate::hub::{Budget, Hub};
use crate::store::{NewUpload, Store};
use app::protocol::{codes, Attachment, AttachmentMeta, ErrorBody};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The directory under `--data` that holds the uploaded files.
pub const UPLOADS_DIR: &str = "uploads";

/// How large uploads may be, how many a user may make, how much they may keep, and
/// how long an upload no message refers to is kept.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// Largest upload, in bytes.
    pub max_bytes: usize,
    /// Uploads one user may make per `window`.
    pub rate: usize,
    pub window: Duration,
    /// Bytes of uploads one user may keep.
    pub quota: u64,
    /// How long an upload that no message refers to is kept.
    pub grace: Duration,
}

impl Default for UploadLimits {
    fn default() -> UploadLimits {
        UploadLimits {
            max_bytes: 10 << 20,
            rate: 30,
            window: Duration::from_secs(600),
            quota: 200 << 20,
            grace: Duration::from_secs(3600),
        }
    }
}

/// Where uploads live, their limits, and who uploaded when.
#[derive(Clone)]
pub struct Uploads {
    pub hub: Arc<Hub>,
    pub store: Arc<dyn Store>,
    pub limits: UploadLimits,
    budget: Arc<RecentUploads>,
}

impl Uploads {
    pub fn new(hub: Arc<Hub>, store: Arc<dyn Store>, limits: UploadLimits) -> Uploads {
        Uploads {
            hub,
            store,
            limits,
            budget: Arc::new(RecentUploads::default()),
        }
    }
}

/// Each user's recent uploads, for the per-user budget. Kept here rather than in the
/// hub: a token holder may upload without a live connection, so the hub may hold no
/// entry for the user.
#[derive(Default)]
struct RecentUploads {
    recent: Mutex<HashMap<UserKey, VecDeque<Instant>>>,
}

/// Users whose recent uploads are kept before those with none in the window are
/// forgotten.
const BUDGET_USERS: usize = 1024;

impl RecentUploads {
    /// Spends one upload of `user`'s budget; `false` when it is spent.
    fn spend(&self, user: &UserKey, limits: &UploadLimits) -> bool {
        let now = Instant::now();
        // The map holds plain timestamps: a panic elsewhere cannot leave it half-written.
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() >= BUDGET_USERS {
            recent.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < limits.window));
        }
        let times = recent.entry(user.clone()).or_default();
        Budget::new(limits.rate, limits.window).spend(times, now)
    }
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
    let max_bytes = up.limits.max_bytes;
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::BAD_REQUEST,
            format!("a file has at most {max_bytes} bytes"),
        )
    };
    let over_quota = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::BAD_REQUEST,
            format!(
                "you keep {} bytes of uploads at most; delete messages with files to make room",
                up.limits.quota
            ),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes as u64) {
        return too_large();
    }
    let user = UserKey::of(&owner);
    if !up.budget.spend(&user, &up.limits) {
        tracing::info!(user = %owner, "upload refused: over the upload budget");
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            codes::RATE_LIMITED,
            format!(
                "at most {} uploads per {}; try again later",
                up.limits.rate,
                humantime::format_duration(up.limits.window)
            ),
        );
    }
    let used = match up.store.upload_usage(user.clone()).await {
        Ok(used) => used,
        Err(e) => {
            let refusal = e.into_refusal();
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::INTERNAL,
                refusal.to_string(),
            );
        }
    };
    if used.saturating_add(declared.unwrap_or(0)) > up.limits.quota {
        return over_quota();
    }
    // Only now is the body read, and never more than the limit (plus one byte, to
    // tell "at the limit" from "over it").
    let body = match axum::body::to_bytes(body, max_bytes.saturating_add(1)).await {
        Ok(body) if body.len() <= max_bytes => body,
        Ok(_) => return too_large(),
        Err(e) => {
            tracing::debug!(error = %e, "upload body not read");
            return too_large();
        }
    };
    let sniffed = filetype::sniff(&body);
    // An image's size is read for the layout; one that cannot be read is a file.
    let (sniffed, size) = match sniffed.kind {
        Kind::Image => match imagesize::blob_size(&body) {
            Ok(size) => (sniffed, Some(size)),
            Err(_) => (filetype::OTHER, None),
        },
        _ => (sniffed, None),
    };
    let ext = sniffed.ext;
    let mut raw = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
    let id = data_encoding::HEXLOWER.encode(&raw);
    let name = format!("{id}.{ext}");
    let filename = headers
        .get("x-filename")
        .and_then(|v| v.to_str().ok())
        .and_then(|f| filetype::clean_filename(f, app::protocol::MAX_ATTACHMENT_FILENAME))
        .unwrap_or_else(|| format!("{}.{ext}", sniffed.kind.as_str()));
    let len = body.len();
    if let Err(e) = up.store.put_upload(name.clone(), body).await {
        tracing::error!(error = %e, "cannot store an upload");
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            "the file could not be stored",
        );
    }
    let record = NewUpload {
        name: name.clone(),
        owner: user,
        bytes: len as u64,
        at: now_ms(),
        filename: filename.clone(),
    };
    match up.store.record_upload(record, up.limits.quota).await {
        Ok(true) => {}
        Ok(false) => {
            remove(&up.store, &name).await;
            return over_quota();
        }
        Err(e) => {
            remove(&up.store, &name).await;
            let refusal = e.into_refusal();
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::INTERNAL,
                refusal.to_string(),
            );
        }
    }
    tracing::info!(user = %owner, file = %name, bytes = len, "file uploaded");
    let attachment = Attachment {
        kind: sniffed.kind.as_str().into(),
        id,
        filename,
        url: format!("/uploads/{name}"),
        meta: AttachmentMeta {
            mimetype: sniffed.mimetype.into(),
            width: size.and_then(|s| u32::try_from(s.width).ok()),
            height: size.and_then(|s| u32::try_from(s.height).ok()),
            size: Some(len as u64),
        },
    };
    (StatusCode::CREATED, Json(attachment)).into_response()
}

/// Removes an upload's bytes; one already gone is not an error.
async fn remove(store: &Arc<dyn Store>, name: &str) {
    if let Err(e) = store.remove_upload(name.to_owned()).await {
        tracing::error!(file = %name, error = %e, "cannot remove an upload");
    }
}

/// Removes the files of uploads no message refers to: those released (their last
/// message deleted, edited or cleared) as soon as the store says so, and those never
/// referred to once `grace` has passed; until `shutdown`.
pub fn spawn_sweeper(up: &Uploads, shutdown: CancellationToken) {
    let (store, grace) = (up.store.clone(), up.limits.grace);
    let every = (grace / 2).clamp(Duration::from_millis(100), Duration::from_secs(60));
    let released = store.uploads_released();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = released.notified() => {}
                () = shutdown.cancelled() => break,
            }
            let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
            let before = now_ms().saturating_sub(grace_ms);
            match store.take_unreferenced_uploads(before).await {
                Ok(names) => {
                    for name in names {
                        remove(&store, &name).await;
                        tracing::info!(file = %name, "removed an upload no message refers to");
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot sweep uploads"),
            }
        }
    });
}

/// The policy of every stored file: were one opened as a page, it could run nothing,
/// load nothing and reach nothing of the app (`sandbox`: a unique origin).
const FILE_CSP: &str = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox";

pub async fn download(State(up): State<Uploads>, Path(name): Path<String>) -> Response {
    if !is_upload_name(&name) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let (id, ext) = name.split_once('.').unwrap_or((&name, ""));
    let kind = filetype::by_ext(ext);
    let inline = kind.kind != Kind::File;
    let filename = match up.store.upload_filename(name.clone()).await {
        Ok(Some(f)) => f,
        // Uploads older than their names, or untracked: a name from the id.
        Ok(None) => format!("{}-{}.{ext}", kind.kind.as_str(), &id[..8.min(id.len())]),
        Err(e) => {
            tracing::error!(file = %name, error = %e, "cannot read an upload's name");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let disposition = filetype::disposition(inline, &filename);
    match up.store.upload_bytes(name.clone()).await {
        Ok(Some(bytes)) => {
            let mut response = Response::new(axum::body::Body::from(bytes));
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(kind.mimetype),
            );
            match HeaderValue::from_str(&disposition) {
                Ok(v) => h.insert(header::CONTENT_DISPOSITION, v),
                // Cannot happen (the value is ASCII by construction); never serve a
                // file without its disposition.
                Err(_) => {
                    return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
                }
            };
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(FILE_CSP),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            response
        }
        Ok(None) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(e) => {
            tracing::error!(file = %name, error = %e, "cannot read an upload");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
