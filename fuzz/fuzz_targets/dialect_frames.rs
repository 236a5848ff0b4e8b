//! Every dialect's client-frame parser takes any text without panicking.
#![no_main]

use app::dialect::{rwci, workshop, workspace};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = rwci::ClientPacket::parse(text);
    let _ = serde_json::from_str::<workspace::ClientFrame>(text);
    let _ = serde_json::from_str::<workshop::Frame>(text);
});
