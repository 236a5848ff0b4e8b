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
