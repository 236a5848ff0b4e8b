//! Start-up and wiring: opens the store, loads the hub, binds the listener (TLS when
//! asked), prints where to open the app, announces it over mDNS, serves the router
//! until SIGINT/SIGTERM, then closes every connection with 1001, waits for them
//! (bounded), withdraws the announcement, and lets the store commit what it holds.

use crate::admin::Admin;
use crate::admission::{Admission, AdmissionListener, Caps, Crowded, Peer};
use crate::coalesce::CoalescingListener;
use crate::dialect::{rwci::Rwci, workshop::Workshop, workspace::Workspace};
use crate::driver::{ConnConfig, Edge};
use crate::guard::Policy;
use crate::headers::SecurityHeaders;
use crate::hub::{Hub, Limits};
use crate::lan::{self, Scheme};
use crate::mdns::Advertiser;
use crate::store::{PgStore, SqliteStore, Store};
use crate::tls::{TlsListener, TlsSource};
use crate::trust::Trust;
use crate::uploads::{UploadLimits, Uploads};
use crate::ws::Native;
use anyhow::Context;
use axum::extract::connect_info::Connected;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::DefaultBodyLimit;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::{IncomingStream, Listener, ListenerExt};
use axum::Router;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Bytes each connection reads into at a time. Chat frames are small; a larger frame
/// gets room for itself when its header arrives. Every idle connection holds this.
const READ_BUFFER: usize = 1024;
/// From the shutdown signal, how long connections get to close before the store
/// commits what it holds and the process exits.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);

/// Everything `parlor serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub data: PathBuf,
    /// PostgreSQL instead of SQLite (`postgres://…`).
    pub store: Option<String>,
    /// The bus between nodes (`--bus nats://…`), with a shared store.
    pub bus: Option<String>,
    /// How often messages past their room's retention are removed.
    pub retention_sweep: Duration,
    pub limits: Limits,
    pub conn: ConnConfig,
    /// Largest accepted WebSocket message, in bytes.
    pub max_frame_bytes: usize,
    /// Image uploads: largest, budget, quota, grace before an unsent one is removed.
    pub uploads: UploadLimits,
    /// Serve HTTPS and WSS instead of HTTP and WS.
    pub tls: Option<TlsSource>,
    /// Announce the service over mDNS/DNS-SD.
    pub mdns: bool,
    /// Print a QR code of the first LAN URL at start.
    pub qr: bool,
    /// Host names a request may carry besides IP literals, `localhost`, `*.local` and
    /// the machine's name (`--allow-host`).
    pub allow_hosts: Vec<String>,
    /// Origins allowed besides the server's own and loopback ones (`--allow-origin`).
    pub allow_origins: Vec<String>,
    /// Connection caps and the pre-login budget.
    pub caps: Caps,
    /// Push notifications: the VAPID contact, private endpoints allowed.
    pub push: crate::push::PushConfig,
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
    let store: Arc<dyn Store> = match &config.store {
        Some(url) => {
            let url = url.clone();
            Arc::new(
                tokio::task::spawn_blocking(move || PgStore::open(&url))
                    .await
                    .context("the PostgreSQL store's opening was cancelled")?
                    .context("cannot open the PostgreSQL store")?,
            )
        }
        None => Arc::new(
            SqliteStore::open(&config.data)
                .with_context(|| format!("cannot open the store in {}", config.data.display()))?,
        ),
    };
    // The store made the data directory and the database owner-only; so are the other
    // files there (kept from an older Parlor, perhaps readable by others) and uploads.
    let uploads_dir = config.data.join(crate::uploads::UPLOADS_DIR);
    crate::private::files_in(&config.data)
        .and_then(|()| crate::private::dir(&uploads_dir))
        .and_then(|()| crate::private::files_in(&uploads_dir))
        .with_context(|| format!("cannot make {} owner-only", config.data.display()))?;
    let hub = Hub::start(store.clone(), config.limits.clone())
        .await
        .context("cannot load the world from the store")?;
    let signal = shutdown_signal().context("cannot listen for SIGTERM")?;
    let shutdown = CancellationToken::new();
    if let Some(url) = &config.bus {
        let Some(cluster) = store.cluster() else {
            anyhow::bail!("--bus joins nodes that share a store: give --store postgres://… too");
        };
        crate::bus::start(url, &cluster, hub.clone(), shutdown.clone()).await?;
    }
    let tls = match &config.tls {
        Some(source) => Some(
            crate::tls::acceptor(source, &config.data, &lan::interface_ips())
                .context("cannot set up TLS")?,
        ),
        None => None,
    };
    crate::admin::write_tls_pin(&config.data, tls.as_ref().map(|t| t.pin.as_path()))
        .context("cannot write the admin TLS pin")?;
    let trust = Trust::from_tls(tls.as_ref());
    let acceptor = tls.map(|t| t.acceptor);
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let local = listener.local_addr()?;
    let scheme = if acceptor.is_some() {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let offer = match &trust {
        Trust::Authority(offer) => Some(offer.as_ref()),
        _ => None,
    };
    lan::print_banner(local, scheme, config.qr, offer);
    let mdns = config
        .mdns
        .then(|| Advertiser::start(local, scheme))
        .flatten();

    let tracker = TaskTracker::new();
    let base = lan::reachable_ips(local.ip())
        .first()
        .map(|ip| lan::url(scheme, *ip, local.port()))
        .unwrap_or_else(|| format!("{}://{local}/", scheme.as_str()));
    let admin = Admin {
        hub: hub.clone(),
        token: crate::admin::write_token(&config.data)
            .context("cannot write the admin token")?
            .into(),
        base: base.into(),
    };
    let ntfy = crate::push::ntfy::Broker::new(shutdown.clone(), config.tls.is_some());
    let pusher = crate::push::Pusher::new(&config.data, config.push.clone(), ntfy.clone())
        .context("cannot set up push notifications")?;
    pusher.spawn(hub.clone(), store.clone(), shutdown.clone());
    hub.set_notifier(pusher.clone());
    let push = crate::push::routes(pusher, ntfy, store.clone());
    let uploads = Uploads::new(hub.clone(), store.clone(), config.uploads.clone());
    crate::uploads::spawn_sweeper(&uploads, shutdown.clone());
    crate::retention::spawn_sweeper(hub.clone(), config.retention_sweep, shutdown.clone());
    let policy = Policy::new(
        config.tls.is_some(),
        &config.allow_hosts,
        &config.allow_origins,
    )?;
    let security = SecurityHeaders::new().context("cannot build the security headers")?;
    let state_hub = hub.clone();
    let state = AppState {
        hub,
        conn: Arc::new(config.conn.clone()),
        max_frame_bytes: config.max_frame_bytes,
        shutdown: shutdown.clone(),
        tracker: tracker.clone(),
    };
    let plain = crate::trust::plain_router(trust.clone()).layer(
        axum::middleware::from_fn_with_state(Arc::new(security.clone()), crate::headers::layer),
    );
    let router = router(state, uploads, admin, trust)
        .merge(push)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(policy),
            crate::guard::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(security),
            crate::headers::layer,
        ));
    {
        let hub = state_hub.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            // Presence that waited is told within about a quarter second of its due
            // time (once a second per user); lapsed typing is ended.
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        hub.flush_presence();
                        hub.sweep_typing();
                        hub.sweep_guests();
                        hub.tick_nodes();
                    }
                    () = shutdown.cancelled() => break,
                }
            }
        });
    }
    {
        // Tokens past their lifetime stop working on use; this also closes the live
        // connections that hold them.
        let hub = state_hub.clone();
        let shutdown = shutdown.clone();
        let every = (config.limits.token_lifetime / 4)
            .clamp(Duration::from_secs(1), Duration::from_secs(60));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if let Err(e) = hub.expire_tokens().await {
                            tracing::warn!(error = %e, "cannot expire session tokens");
                        }
                    }
                    () = shutdown.cancelled() => break,
                }
            }
        });
    }
    {
        let hub = state_hub.clone();
        crate::memory::spawn_trimmer(move || hub.activity(), shutdown.clone());
    }
    {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            signal.await;
            tracing::info!("shutting down: closing connections");
            shutdown.cancel();
        });
    }
    // Withdraw the mDNS announcement as soon as the shutdown begins.
    let goodbye = mdns.map(|advertiser| {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            shutdown.cancelled().await;
            let _ = tokio::task::spawn_blocking(move || advertiser.stop()).await;
        })
    });
    // Chat frames are small: send each at once instead of waiting for an ACK (Nagle).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    // Counted before the TLS handshake, so that handshakes count against the caps. The
    // outer `tap_io`s do nothing to the stream; they give the wrapped listeners axum's
    // `ConnectInfo<Peer>`, which axum implements for tapped listeners.
    let listener = AdmissionListener::new(listener, Admission::new(config.caps.clone()));
    let served = match acceptor {
        None => {
            let listener = CoalescingListener::new(listener).tap_io(|_| {});
            serve_until(listener, router, &shutdown, &tracker).await
        }
        Some(acceptor) => {
            // Plain HTTP on this port gets the `/trust` page alone.
            let tls = TlsListener::new(listener, acceptor).with_plain_http(plain);
            let listener = CoalescingListener::new(tls).tap_io(|_| {});
            serve_until(listener, router, &shutdown, &tracker).await
        }
    };
    // Also after a server error: the goodbye and the sweeper wait for it.
    shutdown.cancel();
    // Every acknowledged write is committed already; this commits the jobs still
    // queued (their answers may not reach a client, whose resend is deduplicated).
    tokio::task::spawn_blocking(move || store.close())
        .await
        .ok();
    if let Some(goodbye) = goodbye {
        let _ = tokio::time::timeout(Duration::from_secs(1), goodbye).await;
    }
    tracing::info!("stopped");
    served
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then stops accepting
/// and gives the HTTP connections and the WebSocket sessions (in `tracker`, which
/// answer what is in flight and close with 1001) [`SHUTDOWN_GRACE`] to finish.
async fn serve_until<L>(
    listener: L,
    router: Router,
    shutdown: &CancellationToken,
    tracker: &TaskTracker,
) -> anyhow::Result<()>
where
    L: Listener<Addr = Peer>,
    for<'a> Peer: Connected<IncomingStream<'a, L>>,
{
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<Peer>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        result = &mut server => return result.context("server error"),
        () = shutdown.cancelled() => {}
    }
    tracker.close();
    let drained = async {
        let result = server.await;
        tracker.wait().await;
        result
    };
    match tokio::time::timeout(SHUTDOWN_GRACE, drained).await {
        Ok(result) => result.context("server error"),
        Err(_) => {
            tracing::warn!("some connections did not close in time");
            Ok(())
        }
    }
}

fn router(state: AppState, uploads: Uploads, admin: Admin, trust: Trust) -> Router {
    let admin = Router::new()
        .route("/api/admin/broadcast", post(crate::admin::broadcast))
        .route("/api/admin/invite", post(crate::invite::create))
        .route("/api/admin/reset", post(crate::reset::create))
        .route("/api/invite-qr/{code}", get(crate::invite::qr))
        .with_state(admin);
    let files = Router::new()
        .route("/api/uploads", post(crate::uploads::upload))
        .route("/uploads/{name}", get(crate::uploads::download))
        .layer(DefaultBodyLimit::max(
            uploads.limits.max_bytes.saturating_add(1),
        ))
        .with_state(uploads);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/emoji", get(crate::assets::emoji))
        .route("/sw.js", get(crate::assets::service_worker))
        .route("/ws", get(native))
        .route("/ws/rwci", get(rwci))
        .route("/ws/workspace", get(workspace))
        .route("/ws/workshop", get(workshop))
        .fallback(crate::assets::serve)
        .with_state(state)
        .merge(files)
        .merge(admin)
        .merge(crate::trust::router(trust))
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
    ConnectInfo(peer): ConnectInfo<Peer>,
    State(state): State<AppState>,
) -> Response {
    upgrade_with(upgrade, peer, state, Native::default())
}

async fn rwci(
    upgrade: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<Peer>,
    State(state): State<AppState>,
) -> Response {
    upgrade_with(upgrade, peer, state, Rwci)
}

#[derive(serde::Deserialize)]
struct WorkspaceQuery {
    username: Option<String>,
}

async fn workspace(
    upgrade: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<Peer>,
    State(state): State<AppState>,
    Query(query): Query<WorkspaceQuery>,
) -> Response {
    // Workspace clients are guests: refused before the upgrade when guests are not
    // welcome (`--no-guests`, or registration `invite` or `closed`).
    if !state.hub.guests_welcome() {
        return (
            StatusCode::FORBIDDEN,
            "guests are not allowed on this server",
        )
            .into_response();
    }
    let edge = Workspace {
        username: query.username,
    };
    upgrade_with(upgrade, peer, state, edge)
}

async fn workshop(
    upgrade: WebSocketUpgrade,
    ConnectInfo(peer): ConnectInfo<Peer>,
    State(state): State<AppState>,
) -> Response {
    upgrade_with(upgrade, peer, state, Workshop::default())
}

/// Upgrades to a WebSocket with the frame limits and small buffers, and runs the
/// edge's connection on the driver as a tracked task (shutdown waits for it).
fn upgrade_with<E: Edge + 'static>(
    upgrade: WebSocketUpgrade,
    Peer { addr: peer, ticket }: Peer,
    state: AppState,
    edge: E,
) -> Response {
    if state.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    if let Some(ticket) = &ticket {
        if let Err(crowded) = ticket.await_login() {
            tracing::debug!(%peer, path = E::PATH, %crowded, "upgrade refused");
            let status = match crowded {
                Crowded::Address => StatusCode::TOO_MANY_REQUESTS,
                Crowded::Server => StatusCode::SERVICE_UNAVAILABLE,
            };
            return (status, crowded.to_string()).into_response();
        }
    }
    tracing::info!(%peer, path = E::PATH, "connection opened");
    let token = state.tracker.token();
    upgrade
        .max_message_size(state.max_frame_bytes)
        .max_frame_size(state.max_frame_bytes)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .on_upgrade(move |socket| async move {
            let AppState {
                hub,
                conn,
                shutdown,
                ..
            } = state;
            crate::driver::serve(socket, edge, hub, conn, shutdown, peer, ticket).await;
            drop(token);
        })
}

/// Listens for SIGINT and SIGTERM from now on (so a signal sent as soon as the banner
/// is out is a graceful stop, not the default kill) and resolves on the first one.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
