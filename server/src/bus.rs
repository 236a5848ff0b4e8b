//! The bus between nodes (`--bus nats://HOST:PORT`): the hub's [`NodeNote`]s as JSON
//! on NATS core, one subject per Parlor (`parlor.<cluster>.nodes`, the cluster's name
//! kept in its database), so that two Parlors may share one NATS.
//!
//! NATS core delivers at most once and keeps nothing: that is all presence and typing
//! need, and nothing else travels here (messages go through the store's log). Sending
//! never waits on NATS: notes go through a bounded queue to one task that publishes
//! them, and a note that finds the queue full is dropped and counted (the hub's beats
//! and rolls repair what it said). The client reconnects by itself; each time it is
//! connected the hub rolls out its people again and asks the others for theirs.

use crate::hub::{Bus, Hub, NodeNote};
use anyhow::Context;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Notes waiting to be published; more are dropped.
const QUEUE: usize = 4096;
/// Largest note accepted from the bus (a roll part of 500 people is far less).
const MAX_NOTE_BYTES: usize = 1 << 20;

/// The sending half the hub holds.
pub struct NatsBus {
    tx: mpsc::Sender<NodeNote>,
    dropped: AtomicU64,
}

impl Bus for NatsBus {
    fn send(&self, note: NodeNote) {
        if self.tx.try_send(note).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "the bus is not keeping up: notes dropped");
            }
        }
    }
}

/// Connects this node to the bus at `url` (in the background: a NATS that is not up
/// yet is retried), and wires it to the hub until `shutdown`.
pub async fn start(
    url: &str,
    cluster: &str,
    hub: Arc<Hub>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let subject = format!("parlor.{cluster}.nodes");
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::new()
        .name("parlor")
        .no_echo()
        .retry_on_initial_connect()
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis(250 * attempts.clamp(1, 8) as u64)
        })
        .event_callback(move |event| {
            let tx = events_tx.clone();
            async move {
                let _ = tx.send(event);
            }
        })
        .connect(url)
        .await
        .with_context(|| format!("cannot use the bus {url}"))?;
    let mut notes = client
        .subscribe(subject.clone())
        .await
        .context("cannot subscribe to the bus")?;
    let (tx, mut rx) = mpsc::channel(QUEUE);
    hub.set_bus(Arc::new(NatsBus {
        tx,
        dropped: AtomicU64::new(0),
    }));
    tracing::info!(bus = %url, %subject, "the bus connects the nodes");

    // Publishing: one task, in order.
    {
        let client = client.clone();
        let subject = subject.clone();
        let shutdown = shutdown.clone();
        let hub = hub.clone();
        tokio::spawn(async move {
            loop {
                let note = tokio::select! {
                    note = rx.recv() => note,
                    () = shutdown.cancelled() => None,
                };
                let Some(note) = note else { break };
                publish(&client, &subject, &note).await;
            }
            // What is queued, then goodbye: the others forget our people at once.
            while let Ok(note) = rx.try_recv() {
                publish(&client, &subject, &note).await;
            }
            publish(&client, &subject, &hub.goodbye()).await;
            let _ = tokio::time::timeout(Duration::from_secs(1), client.flush()).await;
        });
    }
    // Hearing: each note to the hub; what cannot be read is dropped and counted (logged
    // at the 1st, 2nd, 4th, … so a flood of junk cannot flood the log).
    {
        let hub = hub.clone();
        let shutdown = shutdown.clone();
        let mut junk = 0u64;
        tokio::spawn(async move {
            loop {
                let message = tokio::select! {
                    m = notes.next() => m,
                    () = shutdown.cancelled() => None,
                };
                let Some(message) = message else { break };
                let note = if message.payload.len() > MAX_NOTE_BYTES {
                    Err(format!(
                        "{} bytes, over {MAX_NOTE_BYTES}",
                        message.payload.len()
                    ))
                } else {
                    serde_json::from_slice::<NodeNote>(&message.payload).map_err(|e| e.to_string())
                };
                match note {
                    Ok(note) => hub.heard(note),
                    Err(error) => {
                        junk += 1;
                        if junk.is_power_of_two() {
                            tracing::warn!(%error, dropped = junk, "a note on the bus that cannot be read");
                        }
                    }
                }
            }
        });
    }
    // The connection's ups and downs.
    {
        let hub = hub.clone();
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    e = events.recv() => e,
                    () = shutdown.cancelled() => None,
                };
                let Some(event) = event else { break };
                match event {
                    async_nats::Event::Connected => {
                        tracing::info!("connected to the bus");
                        hub.bus_up();
                    }
                    async_nats::Event::Disconnected => {
                        tracing::warn!("lost the bus: presence and typing of other nodes wait");
                        hub.bus_down();
                    }
                    other => tracing::info!(event = %other, "bus"),
                }
            }
        });
    }
    Ok(())
}

async fn publish(client: &async_nats::Client, subject: &str, note: &NodeNote) {
    let bytes = match serde_json::to_vec(note) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "cannot encode a note for the bus");
            return;
        }
    };
    if let Err(e) = client.publish(subject.to_owned(), bytes.into()).await {
        tracing::warn!(error = %e, "cannot publish on the bus");
    }
}
