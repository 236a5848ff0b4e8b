//! `parlor`: the command line. Parses flags, sets up logging, and runs the server.

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};
use server::admin::BroadcastRequest;
use server::app::{serve, ServeConfig};
use server::domain::UserKey;
use server::driver::ConnConfig;
use server::hub::Limits;
use server::tls::TlsSource;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Parlor: a self-hosted real-time chat for your LAN, in one binary.
#[derive(Parser)]
#[command(name = "parlor", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and every chat protocol.
    Serve(Box<ServeArgs>),
    /// Send a message from the server to every connected client (or one user), in
    /// each client's protocol. Run it on the machine where `parlor serve` runs.
    Broadcast(BroadcastArgs),
}

#[derive(Args)]
struct BroadcastArgs {
    /// The message.
    message: String,
    /// Send it to this user only (a direct message from the server).
    #[arg(long)]
    to: Option<String>,
    /// Where the server listens (on this machine).
    #[arg(long, default_value = "127.0.0.1:8080")]
    server: SocketAddr,
    /// The server's data directory (holds the admin token).
    #[arg(long, env = "PARLOR_DATA", default_value = "./parlor-data")]
    data: PathBuf,
}

#[derive(Args)]
struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "PARLOR_BIND", default_value = "0.0.0.0:8080")]
    bind: SocketAddr,
    /// Directory for the database and uploads (created if missing).
    #[arg(long, env = "PARLOR_DATA", default_value = "./parlor-data")]
    data: PathBuf,
    /// Refuse guest connections (dialects without passwords).
    #[arg(long)]
    no_guests: bool,
    /// A password account that may clear any room's history (repeat for several);
    /// never a guest of that name.
    #[arg(long = "admin", value_name = "USER")]
    admins: Vec<String>,
    /// How long a guest's name stays theirs after their last connection closes.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    guest_grace: Duration,
    /// Most guest names one client address may hold at once (connected or within
    /// their grace); 0 for no cap. Loopback addresses are not capped.
    #[arg(long, default_value_t = 16)]
    guests_per_address: usize,
    /// Most concurrent connections per user.
    #[arg(long, default_value_t = 3)]
    max_connections_per_user: usize,
    /// Most chat messages per user per rate window.
    #[arg(long, default_value_t = 100)]
    rate_limit: usize,
    /// The rate limit's window.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    rate_window: Duration,
    /// Close connections that have not logged in after this long.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    auth_timeout: Duration,
    /// Close connections that sent nothing (not even a pong) for this long.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    idle_timeout: Duration,
    /// How often the server pings each connection.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    ping_interval: Duration,
    /// Largest accepted WebSocket message in bytes (larger closes with 1009).
    #[arg(long, default_value_t = 1 << 20)]
    max_frame_bytes: usize,
    /// Largest accepted image upload in bytes.
    #[arg(long, default_value_t = 10 << 20)]
    max_upload_bytes: usize,
    /// Events queued per connection before a connection that does not read is dropped.
    #[arg(long, default_value_t = 1024)]
    outbound_queue: usize,
    /// How long a typing indicator lasts.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    typing_ttl: Duration,
    /// How long one write to a client may take before the connection is dropped.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    write_timeout: Duration,
    /// Serve HTTPS and WSS with this PEM certificate chain (needs --tls-key).
    #[arg(
        long,
        env = "PARLOR_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(
        long,
        env = "PARLOR_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS and WSS with a self-signed certificate, made on first start and kept
    /// in DATA/tls/.
    #[arg(long, env = "PARLOR_TLS_SELF_SIGNED", value_parser = BoolishValueParser::new(),
        conflicts_with_all = ["tls_cert", "tls_key"])]
    tls_self_signed: bool,
    /// Do not announce Parlor over mDNS/DNS-SD (as `parlor.local`, `_http._tcp`).
    #[arg(long, env = "PARLOR_NO_MDNS", value_parser = BoolishValueParser::new())]
    no_mdns: bool,
    /// Do not print a QR code of the LAN address at start.
    #[arg(long, env = "PARLOR_NO_QR", value_parser = BoolishValueParser::new())]
    no_qr: bool,
    /// Also accept requests whose Host is NAME (besides IP addresses, `localhost`,
    /// `*.local` and this machine's name); repeat for several.
    #[arg(
        long = "allow-host",
        value_name = "NAME",
        env = "PARLOR_ALLOW_HOSTS",
        value_delimiter = ','
    )]
    allow_hosts: Vec<String>,
    /// Also accept WebSocket and API requests from pages of ORIGIN
    /// (`https://chat.example.org`); repeat for several.
    #[arg(
        long = "allow-origin",
        value_name = "ORIGIN",
        env = "PARLOR_ALLOW_ORIGINS",
        value_delimiter = ','
    )]
    allow_origins: Vec<String>,
}

impl ServeArgs {
    fn into_config(self) -> ServeConfig {
        let tls = match (self.tls_cert, self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsSource::Files { cert, key }),
            _ if self.tls_self_signed => Some(TlsSource::SelfSigned),
            _ => None,
        };
        ServeConfig {
            bind: self.bind,
            data: self.data,
            limits: Limits {
                max_connections_per_user: self.max_connections_per_user,
                rate_limit: self.rate_limit,
                rate_window: self.rate_window,
                outbound_queue: self.outbound_queue,
                typing_ttl: self.typing_ttl,
                allow_guests: !self.no_guests,
                admins: self.admins.iter().map(|a| UserKey::of(a)).collect(),
                guest_grace: self.guest_grace,
                guests_per_address: self.guests_per_address,
            },
            conn: ConnConfig {
                auth_timeout: self.auth_timeout,
                idle_timeout: self.idle_timeout,
                ping_interval: self.ping_interval,
                write_timeout: self.write_timeout,
            },
            max_frame_bytes: self.max_frame_bytes,
            max_upload_bytes: self.max_upload_bytes,
            tls,
            mdns: !self.no_mdns,
            qr: !self.no_qr,
            allow_hosts: self.allow_hosts,
            allow_origins: self.allow_origins,
        }
    }
}

/// Makes glibc return large freed blocks to the system at once. Each login hashes its
/// password with 19 MiB of memory; glibc's default raises its mmap threshold after
/// the first such block is freed and then keeps every later one in its heaps, which
/// left a Parlor that had seen a few dozen logins at hundreds of MB.
fn return_big_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

fn main() -> anyhow::Result<()> {
    return_big_blocks_to_the_system();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PARLOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(args.into_config()).await,
        Command::Broadcast(args) => {
            let req = BroadcastRequest {
                message: args.message,
                to: args.to,
            };
            server::admin::send(args.server, &args.data, &req).await
        }
    }
}
