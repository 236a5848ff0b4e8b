//! Any text goes through the name rules without a panic, and what they accept holds:
//! a new username is a valid username, never reserved, never holds a hidden
//! character, and looks like itself; an accepted room name holds no hidden character.
#![no_main]

use app::protocol::{
    is_hidden_char, is_reserved_username, look_alike, name_folds, validate_new_username,
    validate_room_name, validate_username,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = name_folds(text);
    if validate_new_username(text).is_ok() {
        assert!(validate_username(text).is_ok());
        assert!(!is_reserved_username(text));
        assert!(!text.chars().any(is_hidden_char));
        assert!(look_alike(text, text));
    }
    if validate_room_name(text).is_ok() {
        assert!(!text.chars().any(|c| c.is_control() || is_hidden_char(c)));
    }
});
