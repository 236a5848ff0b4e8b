//! Any native request reaches the hub's command handling without a panic: a real
//! store in a temporary directory, a logged-in session, each input one request.
#![no_main]

use app::protocol::ClientFrame;
use libfuzzer_sys::fuzz_target;
use server::hub::{Hub, Limits, Login, Session};
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
            let limits = Limits {
                rate_limit: usize::MAX,
                ..Limits::default()
            };
            let hub = Hub::start(store, limits).await.expect("hub");
            let local = std::net::IpAddr::from([127, 0, 0, 1]);
            hub.authenticate("fuzz", "fuzz-password", local)
                .await
                .expect("register");
            hub.authenticate("other", "fuzz-password", local)
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

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(ClientFrame::Request(request)) = ClientFrame::parse(text) else {
        return;
    };
    let w = world();
    let reply = w.rt.block_on(server::ws::answer(
        w.hub.clone(),
        w.session.clone(),
        request,
    ));
    let parsed: serde_json::Value = serde_json::from_str(&reply).expect("the reply is JSON");
    assert_eq!(parsed["type"], "response");
});
