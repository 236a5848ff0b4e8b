//! Password resets over HTTP: `POST /api/admin/reset` (`{"userId"}`, the native
//! `createReset` payload), which `parlor reset-password` calls on the machine the
//! server runs on (the admin token, loopback only, as `parlor invite`). It is how the
//! owner, whose password no admin may reset, gets a link for their own account. The
//! link itself, `/reset/CODE`, is the web app's page (the asset fallback serves it),
//! where the person picks a new password.

use crate::admin::{console_request, refused, Admin};
use crate::hub::Maker;
use crate::ws::accounts::reset_path;
use app::protocol::{CreateResetRequest, Millis};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// What it answers: the link to open, the code, the account and when the link lapses.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetMade {
    pub url: String,
    pub code: String,
    pub user_id: String,
    pub expires_at: Millis,
}

pub async fn create(
    State(admin): State<Admin>,
    ConnectInfo(peer): ConnectInfo<crate::admission::Peer>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let req: CreateResetRequest =
        match console_request(&admin, peer.addr, &headers, &body, "{\"userId\"}") {
            Ok(req) => req,
            Err(refused) => return *refused,
        };
    match admin.hub.create_reset(Maker::Console, &req.user_id).await {
        Ok((user_id, code, expires_at)) => {
            let url = format!("{}{}", admin.base.trim_end_matches('/'), reset_path(&code));
            let made = ResetMade {
                url,
                code,
                user_id,
                expires_at,
            };
            (StatusCode::OK, Json(made)).into_response()
        }
        Err(refusal) => refused(&refusal),
    }
}
