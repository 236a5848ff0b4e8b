//! The rules a *new* name must follow beyond the contract's syntax, shared by the
//! server (which enforces them) and the web app (which can explain them): Unicode
//! look-alikes, invisible and direction-changing characters, and the names Parlor keeps
//! for itself.
//!
//! Two names that look alike are one name: [`name_folds`] maps a name to its
//! *skeletons* (Unicode Technical Standard #39, after NFKC, with case folded), and the
//! server lets no two users, and no two rooms, share one. So `аlice` (with a
//! Cyrillic `а`) cannot sit beside `alice`, nor `ａlice` (full width) or `aIice` (a
//! capital `I`). A new username must also be in NFKC form and use one script (or
//! Latin with one other script that is not Cyrillic or Greek: the "moderately
//! restrictive" level of UTS #39), and must not look like `server`, `parlor` or
//! `admin`. Room names may hold any printable character but no zero-width or
//! direction-changing one (they reorder or hide the text around them).
//!
//! These rules apply when a name is *taken* (a registration, a guest's name, a new
//! room): an account registered before them keeps logging in with its name.

use super::{validate_username, NameError};
use unicode_normalization::{is_nfkc, UnicodeNormalization};
use unicode_security::{RestrictionLevel, RestrictionLevelDetection};

/// Usernames nobody may take (nor anything that looks like one of them, in any case):
/// the server speaks as `server` in the dialects, `parlor` is the server's own name
/// (the creator shown for `General`), and `admin` would pass for the operator.
pub const RESERVED_USERNAMES: [&str; 3] = ["server", "parlor", "admin"];

/// Whether `c` is invisible or changes the direction of the text around it: the
/// zero-width characters (U+200B–U+200D, U+2060, U+FEFF), the directional marks,
/// embeddings, overrides and isolates (U+200E/F, U+061C, U+202A–U+202E,
/// U+2066–U+2069), and the other invisible format characters (soft hyphen, the
/// Mongolian vowel separator, the invisible operators U+2061–U+2064).
pub fn is_hidden_char(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// The forms under which names are compared for look-alikes, in a name's NFKC form:
/// the UTS #39 skeleton of its lowercase form (so `Аlice` and `аlice`, with a Cyrillic
/// `а`, fold as `alice` does), and the lowercase form of its skeleton (so `aIice`, with
/// a capital `I`, does too). Two names that share a fold look the same to a reader.
pub fn name_folds(name: &str) -> [String; 2] {
    let nfkc: String = name.nfkc().collect();
    let lower = nfkc.to_lowercase();
    let by_case: String = unicode_security::skeleton(&lower).collect();
    let by_shape: String = unicode_security::skeleton(&nfkc)
        .collect::<String>()
        .to_lowercase();
    [by_case, by_shape]
}

/// Whether two names are the same name to a reader: equal in any case, or sharing a
/// fold ([`name_folds`]).
pub fn look_alike(a: &str, b: &str) -> bool {
    if a.to_lowercase() == b.to_lowercase() {
        return true;
    }
    let (fa, fb) = (name_folds(a), name_folds(b));
    fa.iter().any(|f| fb.contains(f))
}

/// Whether `name` is, or looks like, one of [`RESERVED_USERNAMES`].
pub fn is_reserved_username(name: &str) -> bool {
    RESERVED_USERNAMES.iter().any(|r| look_alike(name, r))
}

/// A username someone may take now: the contract's syntax ([`validate_username`]),
/// in NFKC form, of one script (UTS #39 moderately restrictive), and not reserved.
/// That it does not look like a name already taken is the server's to check (it
/// compares [`name_folds`]).
pub fn validate_new_username(name: &str) -> Result<(), NameError> {
    validate_username(name)?;
    if !is_nfkc(name) {
        return Err(NameError(
            "a username is written in its plain form (Unicode NFKC: no full-width or styled letters)",
        ));
    }
    // `_`, `-` and `.` belong to no script; the letters and digits decide.
    let letters: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '.'))
        .collect();
    if !letters
        .as_str()
        .check_restriction_level(RestrictionLevel::ModeratelyRestrictive)
    {
        return Err(NameError(
            "a username mixes scripts that look alike (e.g. Latin with Cyrillic)",
        ));
    }
    if is_reserved_username(name) {
        return Err(NameError("this username is reserved"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::validate_room_name;

    #[test]
    fn look_alikes_fold_together() {
        for twin in [
            "Alice",
            "ALICE",
            "\u{430}lice",
            "\u{410}lice",
            "\u{410}LICE",
            "aIice",
            "\u{ff41}lice",
        ] {
            assert!(look_alike(twin, "alice"), "{twin:?}");
            assert!(look_alike("alice", twin), "{twin:?}");
        }
        assert!(!look_alike("alicia", "alice"));
        assert!(!look_alike("bob", "alice"));
        assert!(look_alike("General", "G\u{435}neral"));
        assert!(look_alike("rn", "m"));
    }

    #[test]
    fn reserved_names_and_their_look_alikes_are_refused() {
        for name in ["server", "SERVER", "Parlor", "admin"] {
            assert_eq!(
                validate_new_username(name).map_err(|e| e.0),
                Err("this username is reserved"),
                "{name:?}"
            );
        }
        for twin in ["\u{430}dmin", "\u{ff53}erver", "PARL\u{41e}R"] {
            assert!(validate_new_username(twin).is_err(), "{twin:?}");
        }
        assert!(is_reserved_username("server") && is_reserved_username("\u{430}dmin"));
        assert!(is_reserved_username("PARLOR") && is_reserved_username("Admin"));
        assert!(validate_new_username("servers").is_ok());
        assert!(validate_new_username("administrator").is_ok());
    }

    #[test]
    fn mixed_scripts_and_styled_letters_are_refused() {
        assert!(
            validate_new_username("\u{430}lice").is_err(),
            "Cyrillic а in Latin"
        );
        assert!(
            validate_new_username("\u{ff41}lice").is_err(),
            "full-width a"
        );
        assert!(
            validate_new_username("\u{1d41a}lice").is_err(),
            "mathematical bold a"
        );
        for ok in [
            "alice",
            "Ärger.Bob",
            "мария",
            "οδος",
            "山田_太郎",
            "alice_山田",
            "bob-1.x",
        ] {
            assert!(validate_new_username(ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn hidden_characters_are_refused_in_every_name() {
        for c in [
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{FEFF}', '\u{2060}', '\u{202A}', '\u{202E}',
            '\u{2066}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            let name = format!("ali{c}ce");
            assert!(validate_username(&name).is_err(), "{c:?} in a username");
            assert!(
                validate_new_username(&name).is_err(),
                "{c:?} in a new username"
            );
            assert!(validate_room_name(&name).is_err(), "{c:?} in a room name");
            assert!(is_hidden_char(c));
        }
        assert!(validate_room_name("Kaffee & Kuchen ☕").is_ok());
        assert!(validate_room_name("bad\u{7}bell").is_err());
    }
}
