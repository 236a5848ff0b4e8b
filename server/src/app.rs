//! Start-up and wiring: opens the store, loads the hub, binds the listener, serves the
//! router until SIGINT/SIGTERM, then closes every connection with 1001, waits for them
//! (bounded), and lets the store commit what it holds.

use crate::hub::{Hub, Limits};
use crate::store::Store;
use crate::uploads::Uploads;
use crate::ws::{self, ConnConfig};
use anyhow::Context;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::DefaultBodyLimit;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Everything `parlor serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub data: PathBuf,
    pub limits: Limits,
    pub conn: ConnConfig,
    /// Largest accepted WebSocket message, in bytes.
    pub max_frame_bytes: usize,
    /// Largest accepted image upload, in bytes.
    pub max_upload_bytes: usize,
}

#[derive(Clone)]
struct AppState {
    hub: Arc<Hub>,
    conn: Arc<ConnConfig>,
    max_frame_bytes: usize,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

/// Serves until a shutdown signal.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let store = Store::open(&config.data)
        .with_context(|| format!("cannot open the store in {}", config.data.display()))?;
    let hub = Hub::start(store.clone(), config.limits.clone())
        .await
        .context("cannot load the world from the store")?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let local = listener.local_addr()?;
    print_urls(local);

    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    let uploads = Uploads {
        hub: hub.clone(),
        dir: config.data.join("uploads"),
        max_bytes: config.max_upload_bytes,
    };
    let state = AppState {
        hub,
        conn: Arc::new(config.conn.clone()),
        max_frame_bytes: config.max_frame_bytes,
        shutdown: shutdown.clone(),
        tracker: tracker.clone(),
    };
    let router = router(state, uploads);
    let signal = {
        let shutdown = shutdown.clone();
        async move {
            wait_for_signal().await;
            tracing::info!("shutting down: closing connections");
            shutdown.cancel();
        }
    };
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal)
    .await
    .context("server error")?;
    tracker.close();
    if tokio::time::timeout(Duration::from_secs(4), tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not close in time");
    }
    tokio::task::spawn_blocking(move || store.close())
        .await
        .ok();
    tracing::info!("stopped");
    Ok(())
}

fn router(state: AppState, uploads: Uploads) -> Router {
    let files = Router::new()
        .route("/api/uploads", post(crate::uploads::upload))
        .route("/uploads/{name}", get(crate::uploads::download))
        .layer(DefaultBodyLimit::max(uploads.max_bytes.saturating_add(1)))
        .with_state(uploads);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/ws", get(native))
        .fallback(crate::assets::serve)
        .with_state(state)
        .merge(files)
}

async fn healthz(State(state): State<AppState>) -> Response {
    if state.shutdown.is_cancelled() {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    } else {
        "ok".into_response()
    }
}

async fn native(
    upgrade: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
) -> Response {
    if state.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    tracing::info!(%peer, path = "/ws", "connection opened");
    let token = state.tracker.token();
    upgrade
        .max_message_size(state.max_frame_bytes)
        .max_frame_size(state.max_frame_bytes)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| async move {
            ws::serve(socket, state.hub, state.conn, state.shutdown, peer).await;
            drop(token);
        })
}

/// Prints where the app can be opened: every LAN address when bound to all of them.
fn print_urls(local: SocketAddr) {
    let port = local.port();
    println!("parlor listening on http://{local}");
    let mut urls = Vec::new();
    if local.ip().is_unspecified() {
        if let Ok(ifaces) = if_addrs::get_if_addrs() {
            for iface in ifaces {
                let ip = iface.ip();
                if ip.is_loopback() || (local.ip().is_ipv4() && !ip.is_ipv4()) {
                    continue;
                }
                urls.push(url(ip, port));
            }
        }
        urls.push(format!("http://localhost:{port}/"));
    } else {
        urls.push(url(local.ip(), port));
    }
    println!("Open Parlor on this network at:");
    for u in urls {
        println!("  {u}");
    }
}

fn url(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("http://{v4}:{port}/"),
        IpAddr::V6(v6) => format!("http://[{v6}]:{port}/"),
    }
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
