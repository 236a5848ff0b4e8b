//! Any text parses to a frame or to an error, never a panic; a parsed frame
//! serializes and parses back to itself.
#![no_main]

use app::protocol::ClientFrame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(frame) = ClientFrame::parse(text) {
        let again = ClientFrame::parse(&frame.to_json()).expect("a serialized frame parses");
        assert_eq!(again, frame);
    }
});
