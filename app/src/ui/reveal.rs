//! Scrolling the message list to one message and highlighting it for a moment: the
//! view's half of [`super::store::ChatStore::show_message`]. The message may not be in
//! the page yet when asked (its page was just merged), so it is looked for on the next
//! frames, a bounded number of times.

use crate::protocol::MessageId;
use leptos::html;
use leptos::prelude::*;
use std::time::Duration;
use wasm_bindgen::JsCast;

/// Frames to wait for the message's element to appear.
const TRIES: u32 = 30;
/// How long the highlight stays.
const HIGHLIGHT: Duration = Duration::from_millis(2500);

/// Scrolls `list` to the message `id`, highlights it and moves focus to it.
pub fn reveal(list: NodeRef<html::Ul>, id: MessageId) {
    reveal_after(list, id, TRIES);
}

fn reveal_after(list: NodeRef<html::Ul>, id: MessageId, tries: u32) {
    request_animation_frame(move || {
        let found = list.get_untracked().and_then(|l| {
            l.query_selector(&format!("li[data-message-id=\"{id}\"]"))
                .ok()
                .flatten()
        });
        let Some(element) = found else {
            if tries > 0 {
                reveal_after(list, id, tries - 1);
            }
            return;
        };
        let options = web_sys::ScrollIntoViewOptions::new();
        options.set_block(web_sys::ScrollLogicalPosition::Center);
        element.scroll_into_view_with_scroll_into_view_options(&options);
        let classes = element.class_list();
        if classes.add_1("focused").is_ok() {
            set_timeout(
                move || {
                    let _ = classes.remove_1("focused");
                },
                HIGHLIGHT,
            );
        }
        if let Ok(el) = element.dyn_into::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
    });
}
