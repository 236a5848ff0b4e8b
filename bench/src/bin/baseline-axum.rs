//! The floor of the stack: a bare axum WebSocket server that echoes every text frame
//! to every connection through a `tokio::sync::broadcast` channel. No auth, no JSON,
//! no persistence: what a broadcast costs before Parlor does anything.
//!
//!     baseline-axum 127.0.0.1:9001

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let (tx, _) = broadcast::channel::<axum::extract::ws::Utf8Bytes>(4096);
    let app = Router::new()
        .route("/", get(upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "baseline-axum listening on http://{}",
        listener.local_addr()?
    );
    // Like Parlor and Node's ws: small frames go out at once (no Nagle).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}

async fn upgrade(
    ws: WebSocketUpgrade,
    State(tx): State<broadcast::Sender<axum::extract::ws::Utf8Bytes>>,
) -> axum::response::Response {
    ws.on_upgrade(move |socket| connection(socket, tx))
}

async fn connection(socket: WebSocket, tx: broadcast::Sender<axum::extract::ws::Utf8Bytes>) {
    let (mut sink, mut stream) = socket.split();
    let mut rx = tx.subscribe();
    let forward = tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(text) => {
                    if sink.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    while let Some(Ok(msg)) = stream.next().await {
        if let Message::Text(text) = msg {
            let _ = tx.send(text);
        }
    }
    forward.abort();
}
