//! Three `parlor serve` nodes on one PostgreSQL behind HAProxy: one Parlor. What a
//! person sends on one node reaches the people on the others, once and in order (room
//! messages, direct messages, edits, receipts), a client resumes on another node from
//! the `lastEventId` it had, and one `clientMessageId` sent to two nodes at once gives
//! one message. With a NATS bus (each test runs a `nats-server` of its own): typing
//! and presence cross nodes, the connection limit counts every node's connections, a
//! node killed with `kill -9` leaves no one "online" and no connection counted within
//! seconds, and NATS stopped for 10 s loses no chat message.
//!
//! Needs PostgreSQL (`PARLOR_TEST_PG`), Debian's `haproxy` and `nats-server`:
//! `scripts/dev test` runs it with `--include-ignored` once it has started PostgreSQL.

mod common;

use common::cluster::{cluster_with_bus, Cluster};
use common::Closed;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn a_message_on_one_node_reaches_the_people_on_the_others_once() {
    let cluster = Cluster::start();
    // Round-robin: each of the three lands on another node.
    let mut alice = cluster.online_via_proxy("alice").await;
    let mut bob = cluster.online_via_proxy("bob").await;
    let mut carol = cluster.online_via_proxy("carol").await;
    // Each must be known everywhere before the room message counts them in.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let r = alice
            .request(
                "new",
                json!({"chatId": "#General", "message": format!("m{i}")}),
            )
            .await;
        ids.push(r["payload"]["messageId"].as_u64().expect("id"));
    }
    for c in [&mut bob, &mut carol] {
        for (i, id) in ids.iter().enumerate() {
            let ev = c.event("new").await;
            assert_eq!(ev["payload"]["message"], format!("m{i}"));
            assert_eq!(ev["payload"]["messageId"].as_u64(), Some(*id), "in order");
        }
        c.expect_none(Duration::from_millis(1500), |v| v["eventType"] == "new")
            .await;
    }
    // A direct message, its edit and its read receipt, across nodes.
    let r = bob
        .request("new", json!({"chatId": "carol", "message": "psst"}))
        .await;
    let dm = r["payload"]["messageId"].as_u64().expect("id");
    let ev = carol.event("new").await;
    assert_eq!(ev["payload"]["chatId"], "bob");
    bob.request(
        "edit",
        json!({"chatId": "carol", "messageId": dm, "message": "psst!"}),
    )
    .await;
    let ev = carol.event("edit").await;
    assert_eq!(ev["payload"]["message"], "psst!");
    carol
        .request("read", json!({"chatId": "bob", "messageId": dm}))
        .await;
    let ev = bob.event("read").await;
    assert_eq!(ev["payload"]["messageId"].as_u64(), Some(dm));
    alice
        .expect_none(Duration::from_millis(500), |v| {
            v["payload"]["chatId"] == "bob"
        })
        .await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn a_client_resumes_on_another_node_from_its_last_event() {
    let cluster = Cluster::start();
    let mut alice = cluster.nodes[0].online("alice").await;
    let mut bob = cluster.nodes[1].online("bob").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    alice
        .request("new", json!({"chatId": "#General", "message": "before"}))
        .await;
    let last = bob.event("new").await["id"].as_u64().expect("id");
    drop(bob);
    for i in 0..5 {
        alice
            .request(
                "new",
                json!({"chatId": "#General", "message": format!("missed {i}")}),
            )
            .await;
    }
    // Bob comes back on the third node.
    let mut bob = cluster.nodes[2].login("bob").await;
    let r = bob.request("subscribe", json!({"lastEventId": last})).await;
    assert_eq!(r["payload"]["missed"], 5, "{r}");
    for i in 0..5 {
        let ev = bob.next_logged().await;
        assert_eq!(ev["payload"]["message"], format!("missed {i}"));
    }
    alice
        .request("new", json!({"chatId": "#General", "message": "live"}))
        .await;
    assert_eq!(bob.event("new").await["payload"]["message"], "live");
    bob.expect_none(Duration::from_millis(1500), |v| v["eventType"] == "new")
        .await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn one_client_message_id_sent_to_two_nodes_gives_one_message() {
    let cluster = Cluster::start();
    let mut one = cluster.nodes[0].online("alice").await;
    let mut two = cluster.nodes[1].login("alice").await;
    let mut bob = cluster.nodes[2].online("bob").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let payload = json!({"chatId": "#General", "message": "once", "clientMessageId": "c-1"});
    let (a, b) = tokio::join!(
        one.request("new", payload.clone()),
        two.request("new", payload.clone())
    );
    assert!(
        a.get("error").is_none() && b.get("error").is_none(),
        "{a} {b}"
    );
    assert_eq!(a["payload"]["messageId"], b["payload"]["messageId"]);
    assert_eq!(bob.event("new").await["payload"]["message"], "once");
    bob.expect_none(Duration::from_millis(1500), |v| v["eventType"] == "new")
        .await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn logging_out_everywhere_on_one_node_ends_the_sessions_of_the_others() {
    let cluster = Cluster::start();
    let mut here = cluster.nodes[0].online("alice").await;
    let mut there = cluster.nodes[1].online("alice").await;
    let mut elsewhere = cluster.nodes[2].online("alice").await;
    let r = here.request("logoutEverywhere", json!({})).await;
    assert!(r.get("error").is_none(), "{r}");
    for c in [&mut there, &mut elsewhere] {
        assert_eq!(
            c.closed(Duration::from_secs(5)).await,
            Closed::Frame(4001, "logged out everywhere".into())
        );
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn the_rate_limit_counts_the_messages_sent_through_every_node() {
    let cluster = Cluster::start_with(&["--rate-limit", "10"]);
    let mut one = cluster.nodes[0].online("alice").await;
    let mut two = cluster.nodes[1].online("alice").await;
    for i in 0..6 {
        let r = one
            .request(
                "new",
                json!({"chatId": "#General", "message": format!("a{i}")}),
            )
            .await;
        assert!(r.get("error").is_none(), "{r}");
    }
    // The other node counts them once it has followed the log.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for i in 0..4 {
        let r = two
            .request(
                "new",
                json!({"chatId": "#General", "message": format!("b{i}")}),
            )
            .await;
        assert!(r.get("error").is_none(), "message {} of 10: {r}", 7 + i);
    }
    let r = two
        .request(
            "new",
            json!({"chatId": "#General", "message": "one too many"}),
        )
        .await;
    assert_eq!(r["error"]["code"], "rate_limited", "{r}");
}

fn event_of<'a>(kind: &'a str, user: &'a str) -> impl Fn(&serde_json::Value) -> bool + 'a {
    move |v| v["eventType"] == kind && v["payload"]["userId"] == user
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn typing_and_presence_reach_the_people_on_other_nodes() {
    let (cluster, _nats) = cluster_with_bus(&[]);
    let mut bob = cluster.nodes[1].online("bob").await;
    let mut alice = cluster.nodes[0].online("alice").await;
    bob.next_where(event_of("online", "alice")).await;
    // Her second device, on the third node, changes nothing for bob.
    let mut phone = cluster.nodes[2].online("alice").await;
    let r = alice.request("setStatus", json!({"status": "busy"})).await;
    assert!(r.get("error").is_none(), "{r}");
    bob.next_where(|v| event_of("presence", "alice")(v) && v["payload"]["status"] == "busy")
        .await;
    alice
        .send(
            json!({"type": "event", "timestamp": 1, "payloadType": "typing",
                     "payload": {"chatId": "#General"}}),
        )
        .await;
    let ev = bob.next_where(event_of("typing", "alice")).await;
    assert_eq!(ev["payload"]["chatId"], "#General");
    // In a direct chat too.
    phone
        .send(
            json!({"type": "event", "timestamp": 1, "payloadType": "typing",
                     "payload": {"chatId": "bob"}}),
        )
        .await;
    let ev = bob.next_where(event_of("typing", "alice")).await;
    assert_eq!(ev["payload"]["chatId"], "alice");
    // Everyone sees both, whichever node they ask.
    let mut carol = cluster.nodes[2].online("carol").await;
    let r = carol.request("listUsers", json!({})).await;
    let users = r["payload"]["users"].as_array().expect("users").clone();
    let status = |name: &str| {
        users
            .iter()
            .find(|u| u["userId"] == name)
            .map(|u| u["status"].clone())
    };
    assert_eq!(status("alice"), Some(json!("busy")), "{r}");
    assert_eq!(status("bob"), Some(json!("online")), "{r}");
    // One device closed: still busy; both: offline.
    drop(alice);
    bob.expect_none(Duration::from_millis(1500), event_of("offline", "alice"))
        .await;
    drop(phone);
    bob.next_where(event_of("offline", "alice")).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn the_connection_limit_counts_every_node_and_forgets_a_killed_one_within_seconds() {
    let (mut cluster, _nats) = cluster_with_bus(&[]);
    let mut bob = cluster.nodes[0].online("bob").await;
    let _one = cluster.nodes[0].online("alice").await;
    let _two = cluster.nodes[1].online("alice").await;
    let _three = cluster.nodes[2].online("alice").await;
    let _carol = cluster.nodes[2].online("carol").await;
    bob.next_where(event_of("online", "carol")).await;
    // The bus tells within a quarter second: then a fourth is refused everywhere.
    tokio::time::sleep(Duration::from_millis(800)).await;
    for node in &cluster.nodes {
        let mut c = node.client().await;
        let r = c
            .request(
                "auth",
                json!({"username": "alice", "password": "password-alice"}),
            )
            .await;
        assert_eq!(r["error"]["code"], "too_many_connections", "{r}");
    }
    // The third node dies with its connections; nobody is told it went.
    let killed = std::time::Instant::now();
    cluster.nodes[2].kill();
    // Carol was only there: she goes offline for bob (no ghost), within seconds.
    bob.next_where(event_of("offline", "carol")).await;
    let gone = killed.elapsed();
    assert!(
        gone < Duration::from_secs(6),
        "carol shown online {gone:?} after her node died"
    );
    // Alice's connection there no longer counts.
    let mut again = cluster.nodes[0].client().await;
    let r = again
        .request(
            "auth",
            json!({"username": "alice", "password": "password-alice"}),
        )
        .await;
    assert!(r.get("error").is_none(), "{r}");
    // Alice is still online (two connections left): bob never heard her go.
    bob.expect_none(Duration::from_millis(500), event_of("offline", "alice"))
        .await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn messages_go_on_while_nats_is_down_and_presence_comes_back_with_it() {
    let (cluster, mut nats) = cluster_with_bus(&[]);
    let mut alice = cluster.nodes[0].online("alice").await;
    let mut bob = cluster.nodes[1].online("bob").await;
    // Let the nodes hear each other before the bus goes.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    nats.stop();
    // Ten seconds without a bus: every message still arrives, once, in order.
    let mut sent = Vec::new();
    for i in 0..10 {
        let r = alice
            .request(
                "new",
                json!({"chatId": "#General", "message": format!("while down {i}")}),
            )
            .await;
        sent.push(r["payload"]["messageId"].as_u64().expect("id"));
        let ev = bob.event("new").await;
        assert_eq!(ev["payload"]["messageId"].as_u64(), Some(sent[i]));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // PostgreSQL, the oracle: exactly those, once each.
    let stored: Vec<u64> = common::psql(&cluster.url, "SELECT id FROM messages ORDER BY id")
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert_eq!(
        stored, sent,
        "what the database holds is what was acknowledged"
    );
    nats.resume();
    // Within seconds of NATS coming back, typing crosses nodes again.
    let back = std::time::Instant::now();
    loop {
        alice
            .send(
                json!({"type": "event", "timestamp": 1, "payloadType": "typing",
                         "payload": {"chatId": "#General"}}),
            )
            .await;
        let seen = tokio::time::timeout(Duration::from_millis(1200), async {
            bob.next_where(event_of("typing", "alice")).await
        })
        .await;
        if seen.is_ok() {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "the bus did not come back"
        );
    }
    // And a newcomer is seen across nodes.
    let _carol = cluster.nodes[2].online("carol").await;
    bob.next_where(event_of("online", "carol")).await;
    bob.expect_none(Duration::from_millis(500), |v| v["eventType"] == "new")
        .await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set PARLOR_TEST_PG (scripts/services start)"]
async fn roles_profiles_blocks_and_registration_changed_on_one_node_hold_on_the_others() {
    let cluster = Cluster::start();
    // The first account is the owner.
    let mut owner = cluster.nodes[0].online("olga").await;
    let mut tim = cluster.nodes[1].online("tim").await;
    let mut carol = cluster.nodes[2].online("carol").await;
    // A role given on one node reaches the person's connection on another.
    let r = owner
        .request("setRole", json!({"userId": "tim", "role": "admin"}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let ev = tim.event("role").await;
    assert_eq!(ev["payload"]["role"], "admin", "{ev}");
    // ... and that node lets the admin do what admins do.
    let r = tim.request("createInvite", json!({"role": "member"})).await;
    assert!(r.get("error").is_none(), "an admin on another node: {r}");
    // A profile changed on one node is seen on the others.
    let r = carol
        .request("setProfile", json!({"displayName": "Carol C."}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    let ev = owner
        .next_where(|v| v["eventType"] == "profile" && v["payload"]["userId"] == "carol")
        .await;
    assert_eq!(ev["payload"]["displayName"], "Carol C.");
    let r = tim.request("getProfile", json!({"userId": "carol"})).await;
    assert_eq!(r["payload"]["displayName"], "Carol C.", "{r}");
    // A block made on one node holds on another.
    let r = carol
        .request("block", json!({"userId": "tim", "blocked": true}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = tim
        .request("new", json!({"chatId": "carol", "message": "hi?"}))
        .await;
    assert!(r.get("error").is_some(), "a blocked DM went through: {r}");
    // Registration closed on one node is closed on every node.
    let r = owner
        .request("setRegistration", json!({"mode": "closed"}))
        .await;
    assert!(r.get("error").is_none(), "{r}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut stranger = cluster.nodes[2].client().await;
    let r = stranger
        .request(
            "auth",
            json!({"username": "stranger", "password": "password-stranger"}),
        )
        .await;
    assert!(r.get("error").is_some(), "registered while closed: {r}");
}
