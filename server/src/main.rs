//! `parlor`: the command line. Parses flags, sets up logging, and runs the server.

use app::protocol::{Registration, Role};
use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};
use server::admin::BroadcastRequest;
use server::admission::Caps;
use server::app::{serve, ServeConfig};
use server::domain::UserKey;
use server::driver::ConnConfig;
use server::hub::{
    Budget, Limits, MarkLimits, MARK_BUDGET, MEMBERSHIP_BUDGET, ROOM_BUDGET, SEARCH_BUDGET,
    STATUS_BUDGET,
};
use server::invite::InviteMade;
use server::tls::TlsSource;
use server::uploads::UploadLimits;
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
    /// Make an invitation on the server running here; prints the link to open
    /// (`BASE/invite/CODE`) as the last line.
    Invite(InviteArgs),
    /// Make a one-time password reset link for the account NAME on the server running
    /// here (the owner's own included); prints the link (`BASE/reset/CODE`) last.
    ResetPassword(ResetArgs),
    /// Write a consistent copy of the database and the uploads to FILE (one tar
    /// archive), while the server runs or not.
    Backup(BackupArgs),
    /// Make DIR, a new or empty directory, a data directory holding what the backup
    /// FILE holds.
    Restore(RestoreArgs),
    /// Write the conversations (every room and direct chat, or one room) to FILE as
    /// JSON or a readable HTML page, while the server runs or not.
    Export(ExportArgs),
    /// Copy the data directory DIR (its SQLite database and uploads) into the
    /// PostgreSQL database URL, keeping every id, so that several nodes can serve it
    /// (`parlor serve --store URL`). Stop `parlor serve` first; safe to run again after
    /// an interruption.
    Migrate(MigrateArgs),
}

#[derive(Args)]
struct MigrateArgs {
    /// The data directory to copy.
    #[arg(long, env = "PARLOR_DATA", default_value = "./parlor-data")]
    data: PathBuf,
    /// The PostgreSQL database to fill: new and empty, or the one an interrupted run
    /// of this same copy began (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`).
    #[arg(long, value_name = "URL")]
    to: String,
}

#[derive(Args)]
struct InviteArgs {
    /// Where the server listens (on this machine).
    #[arg(long, default_value = "127.0.0.1:8080")]
    server: SocketAddr,
    /// The server's data directory (holds the admin token).
    #[arg(long, env = "PARLOR_DATA", default_value = "./parlor-data")]
    data: PathBuf,
    /// How many people may sign up with it.
    #[arg(long, default_value_t = 1)]
    uses: u32,
    /// How long it stays valid (`7d`, `12h`; at most 30 days).
    #[arg(long, default_value = "7d", value_parser = humantime::parse_duration)]
    expires: Duration,
    /// The role it gives: member, limited or admin.
    #[arg(long, default_value = "member", value_parser = parse_role)]
    role: Role,
}

#[derive(Args)]
struct ResetArgs {
    /// The account whose password is reset.
    name: String,
    /// Where the server listens (on this machine).
    #[arg(long, default_value = "127.0.0.1:8080")]
    server: SocketAddr,
    /// The server's data directory (holds the admin token).
    #[arg(long, env = "PARLOR_DATA", default_value = "./parlor-data")]
    data: PathBuf,
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "one of owner, admin, member, limited".to_owned())
}

fn parse_registration(text: &str) -> Result<Registration, String> {
    Registration::parse(text).ok_or_else(|| "one of open, invite, closed".to_owned())
}

#[derive(Args)]
struct BackupArgs {
    /// The archive to write (an older file of that name is replaced once the new one
    /// is complete).
    file: PathBuf,
    /// The server's data directory.
    #[arg(long, env = "PARLOR_DATA", default_value = "./parlor-data")]
    data: PathBuf,
}

#[derive(Args)]
struct RestoreArgs {
    /// The archive `parlor backup` wrote.
    file: PathBuf,
    /// The data directory to make (new or empty).
    #[arg(long)]
    data: PathBuf,
}

#[derive(Args)]
struct ExportArgs {
    /// The file to write (`-`: stdout). It holds everyone's messages: keep it safe.
    file: PathBuf,
    /// The server's data directory.
    #[arg(long, env = "PARLOR_DATA", default_value = "./parlor-data")]
    data: PathBuf,
    /// Only this room (direct chats are in an export of everything only).
    #[arg(long, value_name = "NAME")]
    room: Option<String>,
    /// `json` or `html`; by default HTML for a FILE ending in `.html` or `.htm`, JSON
    /// otherwise.
    #[arg(long, value_parser = parse_format)]
    format: Option<server::export::Format>,
}

fn parse_format(text: &str) -> Result<server::export::Format, String> {
    server::export::Format::parse(text).ok_or_else(|| "one of json, html".to_owned())
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
    /// Keep the data in PostgreSQL instead of the embedded SQLite database:
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`. Nodes given the same store are one
    /// Parlor (docs/cluster.md).
    #[arg(long, env = "PARLOR_STORE", value_name = "URL")]
    store: Option<String>,
    /// Tell the other nodes of the same `--store` who is connected and typing, over
    /// NATS: `nats://HOST:PORT`. Without it each node shows only its own.
    #[arg(long, env = "PARLOR_BUS", value_name = "URL")]
    bus: Option<String>,
    /// Refuse guest connections (dialects without passwords).
    #[arg(long)]
    no_guests: bool,
    /// Who may sign up: `open` (an unknown name registers at its first login),
    /// `invite` (only with an invitation) or `closed`; guests only when `open`. Set at
    /// each start; without it, the owner's last choice in the web app (`open` at first).
    #[arg(long, env = "PARLOR_REGISTRATION", value_parser = parse_registration)]
    registration: Option<Registration>,
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
    /// Most rooms one user may create per hour.
    #[arg(long, default_value_t = ROOM_BUDGET.count)]
    room_limit: usize,
    /// Most rooms one user may join or leave per minute.
    #[arg(long, default_value_t = MEMBERSHIP_BUDGET.count)]
    membership_limit: usize,
    /// Most status changes (setStatus, Workspace presence:update) per user per minute.
    #[arg(long, default_value_t = STATUS_BUDGET.count)]
    status_limit: usize,
    /// Most searches (native `search`) per user per minute.
    #[arg(long, default_value_t = SEARCH_BUDGET.count)]
    search_limit: usize,
    /// Most reactions and pins (added or taken back) per user per minute.
    #[arg(long, default_value_t = MARK_BUDGET.count)]
    reaction_limit: usize,
    /// Most distinct emoji on one message.
    #[arg(long, default_value_t = app::protocol::MAX_REACTIONS_PER_MESSAGE)]
    max_reactions_per_message: usize,
    /// Most pinned messages in one chat.
    #[arg(long, default_value_t = app::protocol::MAX_PINS_PER_CHAT)]
    max_pins: usize,
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
    /// Bytes of uploads one user may keep.
    #[arg(long, default_value_t = 200 << 20)]
    upload_quota: u64,
    /// Image uploads one user may make per --upload-window.
    #[arg(long, default_value_t = 30)]
    upload_rate: usize,
    /// The upload budget's window.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    upload_window: Duration,
    /// How long an uploaded image that no message refers to is kept.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    upload_grace: Duration,
    /// Events queued per connection before a connection that does not read is dropped.
    #[arg(long, default_value_t = 1024)]
    outbound_queue: usize,
    /// How often messages older than their room's retention are removed.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    retention_sweep: Duration,
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
    /// Serve HTTPS and WSS with a certificate from Parlor's own certificate authority,
    /// both made on first start and kept in DATA/tls/; plain HTTP on the port gets the
    /// /trust page, where a device trusts that authority.
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
    /// Most open connections in all (loopback clients included).
    #[arg(long, env = "PARLOR_MAX_CONNECTIONS", default_value_t = Caps::default().total)]
    max_connections: usize,
    /// Most open connections from one client address.
    #[arg(long, env = "PARLOR_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = Caps::default().per_address)]
    max_connections_per_address: usize,
    /// Most WebSockets waiting to log in, in all.
    #[arg(long, default_value_t = Caps::default().pre_login_total)]
    max_pending_logins: usize,
    /// Most WebSockets waiting to log in from one client address.
    #[arg(long, default_value_t = Caps::default().pre_login_per_address)]
    max_pending_logins_per_address: usize,
    /// Bytes a WebSocket may send before it has logged in (more closes it with 1009).
    #[arg(long, default_value_t = Caps::default().pre_login_bytes)]
    max_pre_login_bytes: usize,
    /// Apply the per-address caps and the pre-login limit to loopback clients too
    /// (by default they are exempt, for load tests and local tools).
    #[arg(long, env = "PARLOR_LIMIT_LOOPBACK", value_parser = BoolishValueParser::new())]
    limit_loopback: bool,
    /// Characters a new password needs at least (registering, changing it).
    #[arg(long, env = "PARLOR_MIN_PASSWORD_LENGTH", default_value_t = 6)]
    min_password_length: usize,
    /// Logins that may wait for a password hashing thread; more are refused at once
    /// (`rate_limited`, server busy).
    #[arg(long, env = "PARLOR_HASH_QUEUE", default_value_t = 256)]
    hash_queue: usize,
    /// A session token not used to log in for this long stops working (and the
    /// connections holding it close).
    #[arg(long, env = "PARLOR_TOKEN_LIFETIME", default_value = "30d",
        value_parser = humantime::parse_duration)]
    token_lifetime: Duration,
    /// The contact push services see in every push's VAPID token (`sub`): a `mailto:`
    /// or `https:` URL of whoever runs this server.
    #[arg(long, env = "PARLOR_PUSH_CONTACT", default_value = "mailto:parlor@example.org",
        value_parser = push_contact)]
    push_contact: String,
    /// Accept push endpoints over plain http and at loopback or LAN addresses (a push
    /// service on the LAN, tests); by default only https to public addresses.
    #[arg(long, env = "PARLOR_PUSH_ALLOW_PRIVATE", value_parser = BoolishValueParser::new())]
    push_allow_private: bool,
}

/// A VAPID contact: `mailto:` or `https:`, one line.
fn push_contact(value: &str) -> Result<String, String> {
    let ok = (value.starts_with("mailto:") && value.len() > 7 && value.contains('@'))
        || (value.starts_with("https://") && value.len() > 8);
    if ok && !value.contains(char::is_whitespace) && value.len() <= 256 {
        Ok(value.to_owned())
    } else {
        Err("a mailto: address or an https: URL".into())
    }
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
            store: self.store,
            bus: self.bus,
            retention_sweep: self.retention_sweep,
            limits: Limits {
                max_connections_per_user: self.max_connections_per_user,
                rate_limit: self.rate_limit,
                rate_window: self.rate_window,
                outbound_queue: self.outbound_queue,
                typing_ttl: self.typing_ttl,
                allow_guests: !self.no_guests,
                registration: self.registration,
                admins: self.admins.iter().map(|a| UserKey::of(a)).collect(),
                rooms: Budget::new(self.room_limit, ROOM_BUDGET.window),
                memberships: Budget::new(self.membership_limit, MEMBERSHIP_BUDGET.window),
                statuses: Budget::new(self.status_limit, STATUS_BUDGET.window),
                searches: Budget::new(self.search_limit, SEARCH_BUDGET.window),
                marks: MarkLimits {
                    budget: Budget::new(self.reaction_limit, MARK_BUDGET.window),
                    per_message: self.max_reactions_per_message,
                    pins: self.max_pins,
                },
                min_password_length: self.min_password_length,
                hash_queue: self.hash_queue,
                token_lifetime: self.token_lifetime,
                guest_grace: self.guest_grace,
                guests_per_address: self.guests_per_address,
                ..Limits::default()
            },
            conn: ConnConfig {
                auth_timeout: self.auth_timeout,
                idle_timeout: self.idle_timeout,
                ping_interval: self.ping_interval,
                write_timeout: self.write_timeout,
            },
            max_frame_bytes: self.max_frame_bytes,
            uploads: UploadLimits {
                max_bytes: self.max_upload_bytes,
                rate: self.upload_rate,
                window: self.upload_window,
                quota: self.upload_quota,
                grace: self.upload_grace,
            },
            tls,
            mdns: !self.no_mdns,
            qr: !self.no_qr,
            allow_hosts: self.allow_hosts,
            allow_origins: self.allow_origins,
            push: server::push::PushConfig {
                contact: self.push_contact,
                allow_private: self.push_allow_private,
            },
            caps: Caps {
                total: self.max_connections,
                per_address: self.max_connections_per_address,
                pre_login_total: self.max_pending_logins,
                pre_login_per_address: self.max_pending_logins_per_address,
                pre_login_bytes: self.max_pre_login_bytes,
                limit_loopback: self.limit_loopback,
            },
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
        Command::Invite(args) => invite(args).await,
        Command::ResetPassword(args) => reset_password(args).await,
        Command::Backup(args) => server::backup::run_backup(args.data, args.file).await,
        Command::Restore(args) => server::backup::run_restore(args.file, args.data).await,
        Command::Migrate(args) => {
            let request = server::migrate::Request {
                data: args.data,
                to: args.to,
            };
            tokio::task::spawn_blocking(move || server::migrate::run(request)).await?
        }
        Command::Export(args) => {
            let format = args
                .format
                .unwrap_or_else(|| server::export::Format::of_file(&args.file));
            server::export::run_export(server::export::Request {
                data: args.data,
                room: args.room,
                format,
                file: args.file,
            })
            .await
        }
    }
}

/// `parlor invite`: asks the server for an invitation and prints its link last.
async fn invite(args: InviteArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let req = app::protocol::CreateInviteRequest {
        role: args.role,
        uses: Some(args.uses),
        expires_in: Some(args.expires.as_secs()),
    };
    let body = server::admin::post(
        args.server,
        &args.data,
        "/api/admin/invite",
        serde_json::to_vec(&req)?,
    )
    .await
    .context("parlor refused the invitation")?;
    let made: InviteMade =
        serde_json::from_str(&body).context("parlor answered something unexpected")?;
    let uses = made.invite.uses_left;
    println!(
        "An invitation for {uses} sign-up{} as {}, valid for {}:",
        if uses == 1 { "" } else { "s" },
        made.invite.role.as_str(),
        humantime::format_duration(args.expires),
    );
    println!("{}", made.url);
    Ok(())
}

/// `parlor reset-password`: asks the server for a reset link and prints it last.
async fn reset_password(args: ResetArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let req = app::protocol::CreateResetRequest { user_id: args.name };
    let body = server::admin::post(
        args.server,
        &args.data,
        "/api/admin/reset",
        serde_json::to_vec(&req)?,
    )
    .await
    .context("parlor refused the password reset")?;
    let made: server::reset::ResetMade =
        serde_json::from_str(&body).context("parlor answered something unexpected")?;
    println!(
        "A one-time link for {} to choose a new password, valid for 24 hours:",
        made.user_id
    );
    println!("{}", made.url);
    Ok(())
}
