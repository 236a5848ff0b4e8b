//! What Parlor's load tools share: the client side of the native protocol.

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a tool waits for any one frame before it gives up.
pub const FRAME_WAIT: Duration = Duration::from_secs(30);

/// The next text frame as JSON; other frames (pings, binary) are skipped.
pub async fn next_json(ws: &mut Ws) -> anyhow::Result<Value> {
    loop {
        let msg = tokio::time::timeout(FRAME_WAIT, ws.next())
            .await
            .with_context(|| format!("no frame within {FRAME_WAIT:?}"))?
            .context("connection closed")?
            .context("socket error")?;
        if let Message::Text(text) = msg {
            return Ok(serde_json::from_str(&text)?);
        }
    }
}

/// Sends a native request without waiting for its answer.
pub async fn send_request(
    ws: &mut Ws,
    id: &str,
    payload_type: &str,
    payload: Value,
) -> anyhow::Result<()> {
    let frame = json!({"type":"request","id":id,"timestamp":0,"payloadType":payload_type,"payload":payload});
    ws.send(Message::text(frame.to_string())).await?;
    Ok(())
}

/// Sends a native request and returns its response (frames before it are dropped).
pub async fn request(
    ws: &mut Ws,
    id: &str,
    payload_type: &str,
    payload: Value,
) -> anyhow::Result<Value> {
    send_request(ws, id, payload_type, payload).await?;
    loop {
        let v = next_json(ws).await?;
        if v["type"] == "response" && v["id"] == id {
            return Ok(v);
        }
    }
}

/// [`request`], with an error response turned into an error.
pub async fn request_ok(
    ws: &mut Ws,
    id: &str,
    payload_type: &str,
    payload: Value,
) -> anyhow::Result<Value> {
    let v = request(ws, id, payload_type, payload).await?;
    if v.get("error").is_some() {
        bail!("{payload_type} failed: {v}");
    }
    Ok(v)
}
