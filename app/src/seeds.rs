//! The seed documents, for tests: every JSON example in them is a test vector.

pub const SEED_000: &str = include_str!("../../docs/seeds/000-workshop-chat-messages.md");
pub const SEED_001: &str = include_str!("../../docs/seeds/001-request-response-event-overview.md");
pub const SEED_002: &str = include_str!("../../docs/seeds/002-workspace-websocket-protocol.md");
pub const SEED_003: &str = include_str!("../../docs/seeds/003-request-response-event-examples.md");
pub const SEED_004: &str = include_str!("../../docs/seeds/004-rwci-rfc-001.md");

/// Each ```json block of a seed with the last non-empty line before it (its caption).
pub fn json_blocks(doc: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut caption = String::new();
    let mut block: Option<String> = None;
    for line in doc.lines() {
        match block.as_mut() {
            Some(text) if line.trim_start().starts_with("```") => {
                out.push((caption.clone(), std::mem::take(text)));
                block = None;
            }
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
            None if line.trim_start().starts_with("```json") => block = Some(String::new()),
            None if !line.trim().is_empty() => caption = line.trim().to_owned(),
            None => {}
        }
    }
    out
}
