//! Any native request reaches the hub's command handling without a panic: a real
//! store in a temporary directory, a logged-in session, each input one request. The
//! budgets of rooms, memberships, status changes (and notification levels), searches
//! and reactions are small and short, so inputs
//! run both within and over them; and the input also becomes the string field of one
//! of those requests (the first byte picks which), oversized when repeated, so a field
//! over its maximum is always refused with `bad_request` and never reaches the hub.
#![no_main]

use app::protocol::ClientFrame;
use libfuzzer_sys::fuzz_target;
use app::protocol::{codes, MAX_CHAT_ID_BYTES, MAX_EMOJI_BYTES, MAX_ROOM_NAME_CHARS};
use server::hub::{Budget, Hub, Limits, Login, Session};
use std::time::Duration;
use server::store::SqliteStore;
use std::sync::{Arc, OnceLock};

struct World {
    rt: tokio::runtime::Runtime,
    hub: Arc<Hub>,
    session: Arc<Session>,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let (hub, session) = rt.block_on(async {
            let store = Arc::new(SqliteStore::open(dir.path()).expect("store"));
            let short = Budget::new(5, Duration::from_millis(50));
            let limits = Limits {
                rate_limit: usize::MAX,
                rooms: short,
                memberships: short,
                statuses: short,
                searches: short,
                marks: server::hub::MarkLimits {
                    budget: short,
                    per_message: 3,
                    pins: 3,
                },
                ..Limits::default()
            };
            let hub = Hub::start(store, limits).await.expect("hub");
            // Push requests reach their checks (the queue is not read: it drops).
            let broker = server::push::ntfy::Broker::new(Default::default(), false);
            let config = server::push::PushConfig {
                contact: "mailto:fuzz@example.org".into(),
                allow_private: false,
            };
            let pusher = server::push::Pusher::new(dir.path(), config, broker).expect("push");
            hub.set_notifier(pusher);
            let local = std::net::IpAddr::from([127, 0, 0, 1]);
            hub.authenticate("fuzz", "fuzz-password", None, local)
                .await
                .expect("register");
            hub.authenticate("other", "fuzz-password", None, local)
                .await
                .expect("register");
            let (session, rx) = hub.attach(Login::account("fuzz")).await.expect("attach");
            // The session's queue is not read; keep it alive, it only drops when full.
            std::mem::forget(rx);
            (hub, Arc::new(session))
        });
        World {
            rt,
            hub,
            session,
            _dir: dir,
        }
    })
}

fn run(request: app::protocol::Request) -> serde_json::Value {
    let w = world();
    let reply = w.rt.block_on(server::ws::answer(
        w.hub.clone(),
        w.session.clone(),
        request,
    ));
    let parsed: serde_json::Value = serde_json::from_str(&reply).expect("the reply is JSON");
    assert_eq!(parsed["type"], "response");
    parsed
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ClientFrame::Request(request)) = ClientFrame::parse(text) {
        run(request);
    }
    let Some((&pick, rest)) = text.as_bytes().split_first() else {
        return;
    };
    let Ok(rest) = std::str::from_utf8(rest) else {
        return;
    };
    let value = rest.repeat(1 + usize::from(pick / 8) * 4);
    let (kind, payload, over) = match pick % 23 {
        0 => (
            "createRoom",
            serde_json::json!({ "name": value }),
            value.chars().count() > MAX_ROOM_NAME_CHARS,
        ),
        1 => (
            "joinRoom",
            serde_json::json!({ "chatId": format!("#{value}") }),
            value.len() + 1 > MAX_CHAT_ID_BYTES,
        ),
        2 => (
            "leaveRoom",
            serde_json::json!({ "chatId": format!("#{value}") }),
            value.len() + 1 > MAX_CHAT_ID_BYTES,
        ),
        3 => ("setStatus", serde_json::json!({ "status": value }), false),
        // Any text as a search query: words, filters or a clear refusal, never internal.
        6 => (
            "search",
            serde_json::json!({ "query": value }),
            value.len() > app::search::MAX_QUERY_BYTES,
        ),
        // A reply (to a message that may not exist) whose text is the input: Markdown
        // of any shape, refused only when too long.
        7 => (
            "new",
            serde_json::json!({ "chatId": "#General", "message": value, "replyTo": 1 }),
            value.len() > app::protocol::MAX_MESSAGE_BYTES,
        ),
        4 => (
            "react",
            serde_json::json!({"chatId":"#General","messageId":1,"emoji": value,"add": pick % 2 == 0}),
            value.len() > MAX_EMOJI_BYTES,
        ),
        8 => (
            "setNotify",
            serde_json::json!({ "chatId": format!("#{value}"), "level": "none" }),
            value.len() + 1 > MAX_CHAT_ID_BYTES,
        ),
        // Mentions and `@room` in a message of General (no creator: `@room` refused).
        9 => (
            "new",
            serde_json::json!({ "chatId": "#General", "message": format!("@{value} @room") }),
            value.len() + 7 > app::protocol::MAX_MESSAGE_BYTES,
        ),
        // Invitations (the fuzz user is the owner): any id to revoke, any role to ask.
        10 => (
            "revokeInvite",
            serde_json::json!({ "id": value }),
            value.len() > app::protocol::MAX_TOKEN_BYTES,
        ),
        11 => (
            "createInvite",
            serde_json::json!({ "role": value, "uses": value.len(), "expiresIn": 60 }),
            false,
        ),
        // Bans of any name (the fuzz user is the owner: itself is refused).
        12 => (
            "ban",
            serde_json::json!({ "userId": value, "banned": pick % 2 == 0 }),
            value.chars().count() > app::protocol::MAX_USERNAME_CHARS,
        ),
        // Room moderation (the fuzz user is the owner, so it manages every room): any
        // topic of General, any name added, kicked, muted or given a role.
        13 => (
            "setRoom",
            serde_json::json!({ "chatId": "#General", "topic": value, "announce": pick % 2 == 0 }),
            value.chars().count() > app::protocol::MAX_TOPIC_CHARS,
        ),
        14 => (
            if pick % 2 == 0 { "addMember" } else { "kick" },
            serde_json::json!({ "chatId": "#General", "userId": value }),
            value.chars().count() > app::protocol::MAX_USERNAME_CHARS,
        ),
        15 => (
            "mute",
            serde_json::json!({ "chatId": "#General", "userId": value, "muted": pick % 2 == 0 }),
            value.chars().count() > app::protocol::MAX_USERNAME_CHARS,
        ),
        16 => (
            "setRole",
            serde_json::json!({ "userId": value, "role": "limited" }),
            value.chars().count() > app::protocol::MAX_USERNAME_CHARS,
        ),
        // People: any display name and about, any name blocked.
        17 => (
            "setProfile",
            serde_json::json!({ "displayName": value, "about": value }),
            value.chars().count() > app::protocol::MAX_DISPLAY_NAME_CHARS,
        ),
        18 => (
            "block",
            serde_json::json!({ "userId": value, "blocked": pick % 2 == 0 }),
            value.chars().count() > app::protocol::MAX_USERNAME_CHARS,
        ),
        // Password reset links for any name, and any mode for deleted accounts' messages
        // (the fuzz user is the owner). `deleteAccount` ends the connection: it is the
        // connection's, not `answer`'s.
        19 => (
            "createReset",
            serde_json::json!({ "userId": value }),
            value.chars().count() > app::protocol::MAX_USERNAME_CHARS,
        ),
        // Any endpoint of a push subscription (checked, never sent to: no service).
        21 => (
            "pushSubscribe",
            serde_json::json!({ "endpoint": value,
                "p256dh": format!("BA{}", "A".repeat(85)), "auth": "A".repeat(22) }),
            value.len() > app::protocol::MAX_PUSH_ENDPOINT_BYTES,
        ),
        22 => (
            "pushUnsubscribe",
            serde_json::json!({ "endpoint": value }),
            value.len() > app::protocol::MAX_PUSH_ENDPOINT_BYTES,
        ),
        20 => (
            "setDeletedMessages",
            serde_json::json!({ "mode": value }),
            false,
        ),
        _ => (
            "pin",
            serde_json::json!({"chatId": format!("#{value}"),"messageId":1,"pinned":true}),
            value.len() + 1 > MAX_CHAT_ID_BYTES,
        ),
    };
    let frame = serde_json::json!({"type":"request","id":"f","timestamp":1,
        "payloadType":kind,"payload":payload});
    match ClientFrame::parse(&frame.to_string()) {
        Ok(ClientFrame::Request(request)) => {
            assert!(!over, "an oversized field parsed: {frame}");
            let reply = run(request);
            if let Some(code) = reply["error"]["code"].as_str() {
                assert_ne!(code, codes::INTERNAL, "{reply}");
            }
        }
        Ok(_) => unreachable!("a request template parses to a request"),
        Err(e) => {
            if over {
                assert_eq!(e.code, codes::BAD_REQUEST, "{e}");
            }
        }
    }
});
