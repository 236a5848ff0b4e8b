//! The hub's rules without a socket: a real store in a temporary directory, sessions
//! attached directly, their queues read as an edge would.

use super::*;
use crate::domain::EventData;
use crate::store::SqliteStore;
use std::time::Duration;

struct World {
    hub: Arc<Hub>,
    _dir: tempfile::TempDir,
}

async fn world(limits: Limits) -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("store");
    let hub = Hub::start(Arc::new(store), limits).await.expect("hub");
    World { hub, _dir: dir }
}

/// An account (stored without Argon2: quick) with a subscribed session.
async fn connect(hub: &Arc<Hub>, name: &str) -> (Session, mpsc::Receiver<Outbound>) {
    account(hub, name).await;
    let (session, rx) = hub.attach(Login::account(name)).await.expect("attach");
    hub.subscribe(&session);
    (session, rx)
}

/// Registers `name` as the hub does, with a made-up password hash.
async fn account(hub: &Arc<Hub>, name: &str) {
    if hub.lock().users.contains_key(&UserKey::of(name)) {
        return;
    }
    hub.begin_registration(name).expect("a free name");
    let stored = hub
        .store
        .register(crate::store::NewAccount {
            name: name.to_owned(),
            password_hash: Some("x".into()),
            at: now_ms(),
            invite: None,
            invite_needed: false,
        })
        .await;
    hub.end_registration(name, stored.as_ref().ok().map(|(a, _)| a.role));
    stored.expect("registered");
}

const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

fn drain(rx: &mut mpsc::Receiver<Outbound>) -> Vec<Outbound> {
    let mut out = Vec::new();
    while let Ok(item) = rx.try_recv() {
        out.push(item);
    }
    out
}

fn general() -> ChatRef {
    ChatRef::Room(crate::domain::GENERAL.into())
}

fn news(items: &[Outbound]) -> Vec<(String, u64)> {
    items
        .iter()
        .filter_map(|i| match i {
            Outbound::Logged { event, missed } => match &event.event.data {
                EventData::New { message } => Some((message.text.clone(), *missed)),
                _ => None,
            },
            Outbound::Live(_) => None,
        })
        .collect()
}

fn lives(items: &[Outbound]) -> Vec<Live> {
    items
        .iter()
        .filter_map(|i| match i {
            Outbound::Live(l) => Some(l.live.clone()),
            Outbound::Logged { .. } => None,
        })
        .collect()
}

#[tokio::test]
async fn a_room_message_costs_work_only_for_connected_members() {
    let w = world(Limits::default()).await;
    for i in 0..50 {
        let (session, _rx) = connect(&w.hub, &format!("gone{i}")).await;
        drop(session);
    }
    let (alice, _a) = connect(&w.hub, "alice").await;
    let (_bob, mut b) = connect(&w.hub, "bob").await;
    {
        let state = w.hub.lock();
        let general = state
            .rooms
            .values()
            .find(|r| r.name == "General")
            .expect("General");
        assert_eq!(general.members.len(), 52, "everyone stays a member");
        assert_eq!(
            general.active.len(),
            2,
            "only alice and bob are counted for"
        );
    }
    drain(&mut b);
    w.hub
        .send_message(&alice, &general(), "hello".into(), Vec::new(), None)
        .await
        .expect("sent");
    assert_eq!(news(&drain(&mut b)), vec![("hello".to_owned(), 1)]);
}

#[tokio::test]
async fn unread_counts_are_derived_again_when_a_member_comes_back() {
    let w = world(Limits::default()).await;
    let (alice, _a) = connect(&w.hub, "alice").await;
    let (bob, _b) = connect(&w.hub, "bob").await;
    drop(bob);
    for text in ["one", "two", "three"] {
        w.hub
            .send_message(&alice, &general(), text.into(), Vec::new(), None)
            .await
            .expect("sent");
    }
    let (bob, mut b) = connect(&w.hub, "bob").await;
    let summary = w
        .hub
        .chat_summary(&bob.user, &general())
        .await
        .expect("summary");
    assert_eq!(summary.unread, 3);
    w.hub
        .send_message(&alice, &general(), "four".into(), Vec::new(), None)
        .await
        .expect("sent");
    assert_eq!(news(&drain(&mut b)), vec![("four".to_owned(), 4)]);
}

#[tokio::test]
async fn membership_decides_who_may_write_and_who_receives() {
    let w = world(Limits::default()).await;
    let (alice, _a) = connect(&w.hub, "alice").await;
    let (bob, mut b) = connect(&w.hub, "bob").await;
    w.hub
        .create_room(&alice, "Attic", false)
        .await
        .expect("room");
    let attic = ChatRef::Room("attic".into());
    let refused = w
        .hub
        .send_message(&bob, &attic, "let me in".into(), Vec::new(), None)
        .await;
    assert!(matches!(refused, Err(Refusal::Forbidden(_))));
    w.hub
        .send_message(&alice, &attic, "private".into(), Vec::new(), None)
        .await
        .expect("sent");
    assert!(news(&drain(&mut b)).is_empty(), "bob is not in the Attic");
    w.hub.join_room(&bob, &attic).await.expect("join");
    w.hub
        .send_message(&alice, &attic, "welcome".into(), Vec::new(), None)
        .await
        .expect("sent");
    assert_eq!(news(&drain(&mut b)), vec![("welcome".to_owned(), 1)]);
    w.hub.leave_room(&bob, &attic).await.expect("leave");
    w.hub
        .send_message(&alice, &attic, "gone".into(), Vec::new(), None)
        .await
        .expect("sent");
    assert!(news(&drain(&mut b)).is_empty());
    let general_leave = w.hub.leave_room(&bob, &general()).await;
    assert!(matches!(general_leave, Err(Refusal::Forbidden(_))));
}

#[tokio::test]
async fn the_rate_window_refuses_the_message_over_the_limit() {
    let limits = Limits {
        rate_limit: 3,
        rate_window: Duration::from_secs(60),
        ..Limits::default()
    };
    let w = world(limits).await;
    let (alice, _a) = connect(&w.hub, "alice").await;
    for i in 0..3 {
        w.hub
            .send_message(&alice, &general(), format!("m{i}"), Vec::new(), None)
            .await
            .expect("within the limit");
    }
    let over = w
        .hub
        .send_message(&alice, &general(), "m3".into(), Vec::new(), None)
        .await;
    assert!(matches!(over, Err(Refusal::RateLimited(_))));
}

#[tokio::test]
async fn presence_is_merged_over_a_users_sessions() {
    let w = world(Limits::default()).await;
    let (_watcher, mut rx) = connect(&w.hub, "watcher").await;
    let (one, _r1) = connect(&w.hub, "alice").await;
    let (two, _r2) = w.hub.attach(Login::account("alice")).await.expect("second");
    w.hub.subscribe(&two);
    // Presence told within a second waits for the flush: let that second pass.
    tokio::time::sleep(super::PRESENCE_INTERVAL).await;
    w.hub.flush_presence();
    drain(&mut rx);
    // One idle tab: still online, because the other is in use.
    w.hub.set_idle(&one, true);
    assert!(lives(&drain(&mut rx)).is_empty());
    w.hub.set_idle(&two, true);
    assert_eq!(
        lives(&drain(&mut rx)),
        vec![Live::Presence {
            user: "alice".into(),
            status: Status::Away
        }]
    );
    drop(one);
    assert!(lives(&drain(&mut rx)).is_empty(), "still away on the other");
    drop(two);
    // Within a second of the last presence told: it waits for the flush.
    w.hub.flush_presence();
    assert!(lives(&drain(&mut rx)).is_empty(), "told too soon");
    tokio::time::sleep(super::PRESENCE_INTERVAL).await;
    w.hub.flush_presence();
    let seen = lives(&drain(&mut rx));
    assert!(seen.contains(&Live::Offline {
        user: "alice".into()
    }));
}

#[tokio::test]
async fn an_exclusive_login_is_refused_while_the_user_is_connected() {
    let w = world(Limits::default()).await;
    let (_first, _rx) = connect(&w.hub, "alice").await;
    let second = Login {
        exclusive: true,
        ..Login::account("alice")
    };
    assert!(matches!(
        w.hub.attach(second).await,
        Err(Refusal::Conflict(_))
    ));
}

#[tokio::test]
async fn a_typing_indicator_lapses() {
    let limits = Limits {
        typing_ttl: Duration::from_millis(50),
        ..Limits::default()
    };
    let w = world(limits).await;
    let (alice, _a) = connect(&w.hub, "alice").await;
    let (_bob, mut b) = connect(&w.hub, "bob").await;
    drain(&mut b);
    w.hub.typing(&alice, &general()).expect("typing");
    assert!(matches!(
        lives(&drain(&mut b)).as_slice(),
        [Live::Typing { .. }]
    ));
    w.hub.sweep_typing();
    assert!(lives(&drain(&mut b)).is_empty(), "not lapsed yet");
    tokio::time::sleep(Duration::from_millis(80)).await;
    w.hub.sweep_typing();
    assert!(matches!(
        lives(&drain(&mut b)).as_slice(),
        [Live::TypingStopped { .. }]
    ));
}

#[tokio::test]
async fn sessions_sitting_in_a_room_see_who_comes_and_goes() {
    let w = world(Limits::default()).await;
    let (alice, _a) = connect(&w.hub, "alice").await;
    w.hub
        .create_room(&alice, "Attic", false)
        .await
        .expect("room");
    let general_id = w.hub.room_id("General").expect("General");
    let attic_id = w.hub.room_id("Attic").expect("Attic");
    let sitter = |name: &str, room| Login {
        guest: true,
        exclusive: true,
        echo: true,
        place: Place::Room(room),
        ..Login::account(name)
    };
    w.hub.guest_login("watcher", HOME).await.expect("guest");
    let (watcher, mut rx) = w
        .hub
        .attach(sitter("watcher", general_id))
        .await
        .expect("w");
    w.hub.subscribe(&watcher);
    w.hub.guest_login("bob", HOME).await.expect("guest");
    let (bob, _b) = w.hub.attach(sitter("bob", general_id)).await.expect("bob");
    let present = |user: &str, present| Live::RoomPresence {
        room: "General".into(),
        user: user.into(),
        present,
    };
    let came: Vec<Live> = lives(&drain(&mut rx))
        .into_iter()
        .filter(|l| matches!(l, Live::RoomPresence { .. }))
        .collect();
    assert_eq!(came, vec![present("bob", true)]);
    let names: Vec<String> = w
        .hub
        .room_present(general_id)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.contains(&"bob".to_owned()) && names.contains(&"alice".to_owned()));
    w.hub
        .join_room(&bob, &ChatRef::Room("Attic".into()))
        .await
        .expect("join");
    w.hub
        .sit(&bob, &ChatRef::Room("Attic".into()))
        .expect("sit");
    let moved: Vec<Live> = lives(&drain(&mut rx))
        .into_iter()
        .filter(|l| matches!(l, Live::RoomPresence { .. }))
        .collect();
    assert_eq!(
        moved,
        vec![present("bob", false)],
        "one leave, no second join"
    );
    assert!(w.hub.room_present(attic_id).iter().any(|(n, _)| n == "bob"));
}

#[tokio::test]
async fn a_flood_of_status_changes_is_told_once_a_second_the_latest_winning() {
    let limits = Limits {
        statuses: super::Budget::new(10_000, Duration::from_secs(60)),
        ..Limits::default()
    };
    let w = world(limits).await;
    let general_id = w.hub.room_id("General").expect("General");
    let (alice, _a) = connect(&w.hub, "alice").await;
    let (_bob, mut b) = connect(&w.hub, "bob").await;
    w.hub.guest_login("sitter", HOME).await.expect("guest");
    let sitter = Login {
        guest: true,
        exclusive: true,
        echo: true,
        place: Place::Room(general_id),
        ..Login::account("sitter")
    };
    let (sitting, mut s) = w.hub.attach(sitter).await.expect("sitter");
    w.hub.subscribe(&sitting);
    tokio::time::sleep(super::PRESENCE_INTERVAL).await;
    w.hub.flush_presence();
    drain(&mut b);
    drain(&mut s);
    // The first change is told at once; the next 999 wait for the flush.
    for i in 0..1000 {
        let status = [Status::Busy, Status::Offline][i % 2];
        w.hub.set_status(&alice, status).expect("within budget");
    }
    let told = lives(&drain(&mut b));
    assert_eq!(
        told,
        vec![Live::Presence {
            user: "alice".into(),
            status: Status::Busy
        }]
    );
    w.hub.flush_presence();
    assert!(lives(&drain(&mut b)).is_empty(), "told within the second");
    tokio::time::sleep(super::PRESENCE_INTERVAL).await;
    w.hub.flush_presence();
    let told = lives(&drain(&mut b));
    assert_eq!(
        told,
        vec![
            Live::Presence {
                user: "alice".into(),
                status: Status::Offline
            },
            Live::Offline {
                user: "alice".into()
            }
        ],
        "only the latest"
    );
    // The sitting session saw alice leave General once (offline), not a thousand
    // comings and goings.
    let seen: Vec<Live> = lives(&drain(&mut s))
        .into_iter()
        .filter(|l| matches!(l, Live::RoomPresence { user, .. } if user == "alice"))
        .collect();
    assert_eq!(
        seen,
        vec![Live::RoomPresence {
            room: "General".into(),
            user: "alice".into(),
            present: false
        }]
    );
}

fn guest(name: &str) -> Login {
    Login {
        guest: true,
        ..Login::account(name)
    }
}

#[tokio::test]
async fn a_guest_is_in_general_while_it_visits_and_its_name_is_freed_after_the_grace() {
    let limits = Limits {
        guest_grace: Duration::from_millis(50),
        ..Limits::default()
    };
    let w = world(limits).await;
    let general = w.hub.room_id("General").expect("General");
    let in_general = |hub: &Hub, name: &str| {
        hub.lock()
            .rooms
            .get(&general)
            .is_some_and(|r| r.members.contains(&UserKey::of(name)))
    };
    w.hub.guest_login("visitor", HOME).await.expect("guest");
    let (visitor, _rx) = w.hub.attach(guest("visitor")).await.expect("attach");
    assert!(in_general(&w.hub, "visitor"));
    drop(visitor);
    assert!(!in_general(&w.hub, "visitor"), "gone from General at once");
    w.hub.sweep_guests();
    assert!(
        w.hub.begin_registration("visitor").is_err(),
        "held within the grace"
    );
    tokio::time::sleep(Duration::from_millis(80)).await;
    w.hub.sweep_guests();
    assert!(!w.hub.lock().users.contains_key(&UserKey::of("visitor")));
    w.hub.begin_registration("visitor").expect("free again");
    w.hub.end_registration("visitor", None);
}

#[tokio::test]
async fn one_address_holds_a_bounded_number_of_guest_names() {
    let limits = Limits {
        guests_per_address: 2,
        ..Limits::default()
    };
    let w = world(limits).await;
    let far = IpAddr::V4(std::net::Ipv4Addr::new(192, 168, 1, 20));
    let other = IpAddr::V4(std::net::Ipv4Addr::new(192, 168, 1, 21));
    w.hub.guest_login("one", far).await.expect("first");
    w.hub.guest_login("two", far).await.expect("second");
    // The same name again is the guest's own: it costs nothing more.
    w.hub.guest_login("one", far).await.expect("its own name");
    assert!(matches!(
        w.hub.guest_login("three", far).await,
        Err(Refusal::RateLimited(_))
    ));
    w.hub
        .guest_login("three", other)
        .await
        .expect("another address");
    for i in 0..5 {
        w.hub
            .guest_login(&format!("local{i}"), HOME)
            .await
            .expect("loopback is not capped");
    }
}

#[tokio::test]
async fn direct_chats_with_guests_are_refused() {
    let w = world(Limits::default()).await;
    let (alice, _a) = connect(&w.hub, "alice").await;
    w.hub.guest_login("visitor", HOME).await.expect("guest");
    let (_visitor, _v) = w.hub.attach(guest("visitor")).await.expect("attach");
    let sent = w
        .hub
        .send_message(
            &alice,
            &ChatRef::Direct("visitor".into()),
            "hi".into(),
            Vec::new(),
            None,
        )
        .await;
    assert!(matches!(sent, Err(Refusal::NotFound(_))), "{sent:?}");
}

/// A bus that keeps what a node sends, for the test to pass on (or lose).
#[derive(Default)]
struct Tap(std::sync::Mutex<Vec<NodeNote>>);

impl Bus for Tap {
    fn send(&self, note: NodeNote) {
        self.0.lock().expect("tap").push(note);
    }
}

impl Tap {
    fn take(&self) -> Vec<NodeNote> {
        std::mem::take(&mut *self.0.lock().expect("tap"))
    }
}

/// Two nodes joined by taps: what each sends is heard by the other on `pass`.
struct Pair {
    a: World,
    b: World,
    a_out: Arc<Tap>,
    b_out: Arc<Tap>,
}

impl Pair {
    async fn new(limits: Limits) -> Pair {
        let (a, b) = (world(limits.clone()).await, world(limits).await);
        let (a_out, b_out) = (Arc::new(Tap::default()), Arc::new(Tap::default()));
        a.hub.set_bus(a_out.clone());
        b.hub.set_bus(b_out.clone());
        a.hub.bus_up();
        b.hub.bus_up();
        let pair = Pair { a, b, a_out, b_out };
        pair.pass();
        pair
    }

    /// Each node tells what changed; every note is heard, until both are quiet.
    fn pass(&self) {
        self.a.hub.tick_nodes();
        self.b.hub.tick_nodes();
        for _ in 0..10 {
            let (from_a, from_b) = (self.a_out.take(), self.b_out.take());
            if from_a.is_empty() && from_b.is_empty() {
                return;
            }
            from_a.into_iter().for_each(|n| self.b.hub.heard(n));
            from_b.into_iter().for_each(|n| self.a.hub.heard(n));
        }
    }

    /// The same account on both nodes (each has its own store here).
    async fn account(&self, name: &str) {
        account(&self.a.hub, name).await;
        account(&self.b.hub, name).await;
    }
}

#[tokio::test]
async fn presence_and_the_connection_limit_count_the_connections_of_every_node() {
    let pair = Pair::new(Limits::default()).await;
    pair.account("alice").await;
    let (_watcher, mut seen) = connect(&pair.b.hub, "watcher").await;
    drain(&mut seen);
    let one = connect(&pair.a.hub, "alice").await;
    let two = connect(&pair.a.hub, "alice").await;
    pair.pass();
    assert!(
        lives(&drain(&mut seen)).contains(&Live::Online {
            user: "alice".into()
        }),
        "alice, connected to the other node, is online here"
    );
    let three = connect(&pair.b.hub, "alice").await;
    pair.pass();
    assert!(
        matches!(
            pair.b.hub.attach(Login::account("alice")).await,
            Err(Refusal::TooManyConnections(_))
        ),
        "a fourth connection is refused: two are on the other node"
    );
    assert!(matches!(
        pair.a.hub.attach(Login::account("alice")).await,
        Err(Refusal::TooManyConnections(_))
    ));
    // The other node stops: its connections no longer count, and alice stays online
    // (she is still connected here).
    pair.b.hub.heard(pair.a.hub.goodbye());
    let four = pair.b.hub.attach(Login::account("alice")).await;
    assert!(
        four.is_ok(),
        "the stopped node's connections are no longer counted"
    );
    tokio::time::sleep(super::PRESENCE_INTERVAL).await;
    pair.b.hub.flush_presence();
    assert!(!lives(&drain(&mut seen)).contains(&Live::Offline {
        user: "alice".into()
    }));
    drop((one, two, three, four));
}

#[tokio::test]
async fn someone_connected_only_to_a_node_that_left_is_offline() {
    let pair = Pair::new(Limits::default()).await;
    pair.account("alice").await;
    let (_watcher, mut seen) = connect(&pair.b.hub, "watcher").await;
    let alice = connect(&pair.a.hub, "alice").await;
    pair.pass();
    drain(&mut seen);
    pair.b.hub.heard(pair.a.hub.goodbye());
    tokio::time::sleep(super::PRESENCE_INTERVAL).await;
    pair.b.hub.flush_presence();
    assert!(lives(&drain(&mut seen)).contains(&Live::Offline {
        user: "alice".into()
    }));
    assert!(pair.b.hub.online().iter().all(|(n, _)| n != "alice"));
    drop(alice);
}

#[tokio::test]
async fn a_status_chosen_on_one_node_shows_on_the_other() {
    let pair = Pair::new(Limits::default()).await;
    pair.account("alice").await;
    let (_watcher, mut seen) = connect(&pair.b.hub, "watcher").await;
    let (alice, _rx) = connect(&pair.a.hub, "alice").await;
    pair.pass();
    tokio::time::sleep(super::PRESENCE_INTERVAL).await;
    pair.b.hub.flush_presence();
    drain(&mut seen);
    pair.a.hub.set_status(&alice, Status::Busy).expect("status");
    pair.pass();
    tokio::time::sleep(super::PRESENCE_INTERVAL).await;
    pair.b.hub.flush_presence();
    assert!(lives(&drain(&mut seen)).contains(&Live::Presence {
        user: "alice".into(),
        status: Status::Busy
    }));
}

#[tokio::test]
async fn typing_reaches_the_other_node_and_lapses_there_when_its_end_is_lost() {
    let limits = Limits {
        typing_ttl: Duration::from_millis(50),
        ..Limits::default()
    };
    let pair = Pair::new(limits).await;
    pair.account("alice").await;
    let (alice, _a) = connect(&pair.a.hub, "alice").await;
    let (_bob, mut b) = connect(&pair.b.hub, "bob").await;
    pair.pass();
    drain(&mut b);
    pair.a.hub.typing(&alice, &general()).expect("typing");
    pair.pass();
    assert!(matches!(
        lives(&drain(&mut b)).as_slice(),
        [Live::Typing { user, .. }] if user == "alice"
    ));
    // The node's "stopped" is lost: the indicator lapses here by itself, once.
    tokio::time::sleep(Duration::from_millis(80)).await;
    pair.a.hub.sweep_typing();
    pair.a_out.take();
    pair.b.hub.sweep_typing();
    pair.b.hub.sweep_typing();
    assert!(matches!(
        lives(&drain(&mut b)).as_slice(),
        [Live::TypingStopped { user, .. }] if user == "alice"
    ));
}

#[tokio::test]
async fn a_lost_note_is_repaired_by_the_next_beat() {
    let pair = Pair::new(Limits::default()).await;
    pair.account("alice").await;
    let alice = connect(&pair.a.hub, "alice").await;
    pair.a.hub.tick_nodes();
    // The note saying alice connected is lost.
    pair.a_out.take();
    let here = [
        pair.b
            .hub
            .attach(Login::account("alice"))
            .await
            .expect("one"),
        pair.b
            .hub
            .attach(Login::account("alice"))
            .await
            .expect("two"),
    ];
    // The beat says a note was missed; the roll that answers tells alice's connection.
    std::thread::sleep(super::nodes::BEAT);
    pair.pass();
    assert!(matches!(
        pair.b.hub.attach(Login::account("alice")).await,
        Err(Refusal::TooManyConnections(_))
    ));
    drop((alice, here));
}
