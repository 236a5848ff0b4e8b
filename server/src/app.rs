//! Start-up and wiring: opens the store, loads the hub, binds the listener, serves the
//! router until SIGINT/SIGTERM, then closes every connection with 1001, waits for them
//! (bounded), and lets the store commit what it holds.

use crate::admin::Admin;
use crate::hub::{Hub, Limits};
use crate::store::Store;
use crate::uploads::Uploads;
use crate::ws::{self, ConnConfig};
use anyhow::Context;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::DefaultBodyLimit;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Bytes each connection reads into at a time. Chat frames are small; a larger frame
/// gets room for itself when its header arrives. Every idle connection holds this.
const READ_BUFFER: usize = 1024;

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
    let admin = Admin {
        hub: hub.clone(),
        token: crate::admin::write_token(&config.data)
            .context("cannot write the admin token")?
            .into(),
    };
    let uploads = Uploads {
        hub: hub.clone(),
        dir: config.data.join("uploads"),
        max_bytes: config.max_upload_bytes,
    };
    let state_hub = hub.clone();
    let state = AppState {
        hub,
        conn: Arc::new(config.conn.clone()),
        max_frame_bytes: config.max_frame_bytes,
        shutdown: shutdown.clone(),
        tracker: tracker.clone(),
    };
    let router = router(state, uploads, admin);
    {
        let hub = state_hub.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tick.tick() => hub.sweep_typing(),
                    () = shutdown.cancelled() => break,
                }
            }
        });
    }
    let signal = {
        let shutdown = shutdown.clone();
        async move {
            wait_for_signal().await;
            tracing::info!("shutting down: closing connections");
            shutdown.cancel();
        }
    };
    // Chat frames are small: send each at once instead of waiting for an ACK (Nagle).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
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

fn router(state: AppState, uploads: Uploads, admin: Admin) -> Router {
    let admin = Router::new()
        .route("/api/admin/broadcast", post(crate::admin::broadcast))
        .with_state(admin);
    let files = Router::new()
        .route("/api/uploads", post(crate::uploads::upload))
        .route("/uploads/{name}", get(crate::uploads::download))
        .layer(DefaultBodyLimit::max(uploads.max_bytes.saturating_add(1)))
        .with_state(uploads);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/ws", get(native))
        .route("/ws/rwci", get(rwci))
        .route("/ws/workspace", get(workspace))
        .route("/ws/workshop", get(workshop))
        .fallback(crate::assets::serve)
        .with_state(state)
        .merge(files)
        .merge(admin)
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
    upgrade_with(upgrade, peer, state, "/ws", move |socket, s| {
        ws::serve(socket, s.hub, s.conn, s.shutdown, peer)
    })
}

async fn rwci(
    upgrade: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
) -> Response {
    upgrade_with(upgrade, peer, state, "/ws/rwci", move |socket, s| {
        crate::dialect::rwci::serve(socket, s.hub, s.conn, s.shutdown, peer)
    })
}

#[derive(serde::Deserialize)]
struct WorkspaceQuery {
    username: Option<String>,
}

async fn workspace(
    upgrade: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
    Query(query): Query<WorkspaceQuery>,
) -> Response {
    upgrade_with(upgrade, peer, state, "/ws/workspace", move |socket, s| {
        crate::dialect::workspace::serve(socket, s.hub, s.conn, s.shutdown, peer, query.username)
    })
}

async fn workshop(
    upgrade: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    State(state): State<AppState>,
) -> Response {
    upgrade_with(upgrade, peer, state, "/ws/workshop", move |socket, s| {
        crate::dialect::workshop::serve(socket, s.hub, s.conn, s.shutdown, peer)
    })
}

/// Upgrades to a WebSocket with the frame limits and small buffers, and runs `serve`
/// as a tracked task (shutdown waits for it).
fn upgrade_with<F, Fut>(
    upgrade: WebSocketUpgrade,
    peer: SocketAddr,
    state: AppState,
    path: &'static str,
    serve: F,
) -> Response
where
    F: FnOnce(axum::extract::ws::WebSocket, AppState) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if state.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    tracing::info!(%peer, path, "connection opened");
    let token = state.tracker.token();
    upgrade
        .max_message_size(state.max_frame_bytes)
        .max_frame_size(state.max_frame_bytes)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .on_upgrade(move |socket| async move {
            serve(socket, state).await;
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
