//! Any text parses as Markdown without a panic, quickly (linear time), with nesting
//! within its bound; its plain-text form and first line never panic either, and text
//! without any marker character comes back unchanged.
#![no_main]

use app::markdown::{first_line, parse, plain, Block, MAX_DEPTH};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};

fn depth(blocks: &[Block]) -> usize {
    blocks
        .iter()
        .map(|b| match b {
            Block::Quote(inner) => 1 + depth(inner),
            Block::List { items, .. } => 1 + items.iter().map(|i| depth(i)).max().unwrap_or(0),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.len() > app::protocol::MAX_MESSAGE_BYTES {
        return;
    }
    let start = Instant::now();
    let blocks = parse(text);
    let flat = plain(text);
    let _ = first_line(text);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "slow on {} bytes",
        text.len()
    );
    assert!(depth(&blocks) <= MAX_DEPTH);
    if !text.contains(['*', '_', '~', '`', '[', '>', '-', '.', ')', '\n']) {
        assert_eq!(flat, text);
    }
});
