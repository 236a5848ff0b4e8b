//! Letter case for names, keys and search words, and sorting by a name ignoring case.
//!
//! Rust's `str::to_lowercase`/`to_uppercase` carry Unicode's case tables (about 9 KB
//! gzip of the web bundle). In the browser the same full Unicode case mapping (with
//! the final-sigma rule) is one call to `String.prototype.toLowerCase`, so in the web
//! app non-ASCII text is cased by JavaScript; natively (server, tests) by Rust. ASCII
//! text never leaves Rust. The sort helpers exist for size too: each `sort_by` with its
//! own closure is a separate copy of the standard stable sort in the bundle, while
//! [`sort_by_name`] sorts one key type for every caller.

/// `text` in lower case (full Unicode mapping, as `str::to_lowercase`).
pub fn lower(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        unicode_lower(text)
    }
}

/// `text` in upper case (full Unicode mapping, as `str::to_uppercase`).
pub fn upper(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_uppercase()
    } else {
        unicode_upper(text)
    }
}

#[cfg(all(feature = "ui", target_arch = "wasm32"))]
fn unicode_lower(text: &str) -> String {
    js_sys::JsString::from(text).to_lower_case().into()
}

#[cfg(all(feature = "ui", target_arch = "wasm32"))]
fn unicode_upper(text: &str) -> String {
    js_sys::JsString::from(text).to_upper_case().into()
}

#[cfg(not(all(feature = "ui", target_arch = "wasm32")))]
fn unicode_lower(text: &str) -> String {
    text.to_lowercase()
}

#[cfg(not(all(feature = "ui", target_arch = "wasm32")))]
fn unicode_upper(text: &str) -> String {
    text.to_uppercase()
}

/// Sorts `items` by `key`: a rank first (lower first), then a name ignoring case
/// ([`lower`]); stable, as `sort_by_key` with the key `(rank, lower(name))`.
pub fn sort_by_name<T>(items: &mut Vec<T>, key: impl Fn(&T) -> (u8, &str)) {
    let mut keys: Vec<(u8, String, usize)> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let (rank, name) = key(item);
            (rank, lower(name), i)
        })
        .collect();
    sort_keys(&mut keys);
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(keys.into_iter().filter_map(|(_, _, i)| slots[i].take()));
}

/// One copy of the sort for every caller of [`sort_by_name`]: the index makes every
/// key distinct, so the unstable sort gives the stable order.
#[inline(never)]
fn sort_keys(keys: &mut [(u8, String, usize)]) {
    keys.sort_unstable();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casing_matches_the_standard_library() {
        for text in [
            "Alice",
            "ÉLODIE",
            "ΟΔΟΣ",
            "straße",
            "İstanbul",
            "",
            "x-Y_z.9",
        ] {
            assert_eq!(lower(text), text.to_lowercase(), "{text}");
            assert_eq!(upper(text), text.to_uppercase(), "{text}");
        }
    }

    #[test]
    fn sorting_by_name_is_stable_and_ignores_case() {
        let mut items = vec![
            (1, "bob", 'a'),
            (0, "Carol", 'b'),
            (1, "Alice", 'c'),
            (1, "BOB", 'd'),
            (0, "alice", 'e'),
        ];
        let mut expected = items.clone();
        expected.sort_by_key(|(rank, name, _)| (*rank, name.to_lowercase()));
        sort_by_name(&mut items, |(rank, name, _)| (*rank, name));
        assert_eq!(items, expected);
    }
}
