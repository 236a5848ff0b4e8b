//! Small wrappers around browser APIs the store needs: `localStorage`, the page's
//! visibility and focus, timers and the online flag. Every failure (storage disabled,
//! no window) is treated as "nothing there".

use wasm_bindgen::prelude::*;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

pub fn save(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}

pub fn forget(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}

/// Forgets every key that starts with `prefix`.
pub fn forget_prefixed(prefix: &str) {
    let Some(s) = storage() else { return };
    let count = s.length().unwrap_or(0);
    let keys: Vec<String> = (0..count)
        .filter_map(|i| s.key(i).ok().flatten())
        .filter(|k| k.starts_with(prefix))
        .collect();
    for key in keys {
        let _ = s.remove_item(&key);
    }
}

/// Scrolls the message list to its end.
pub fn scroll_messages_to_end() {
    if let Some(el) = document().and_then(|d| d.query_selector(".scroller").ok().flatten()) {
        el.set_scroll_top(el.scroll_height());
    }
}

pub fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

/// True when the page is on screen and its window has the focus: what a reader sees.
pub fn page_attended() -> bool {
    document().is_some_and(|d| !d.hidden() && d.has_focus().unwrap_or(false))
}

pub fn page_hidden() -> bool {
    document().is_some_and(|d| d.hidden())
}

/// `navigator.onLine` (true when unknown).
pub fn browser_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// Whether the message list is scrolled to its end (None: no list on screen).
pub fn messages_at_end() -> Option<bool> {
    let el = document()?.query_selector(".scroller").ok().flatten()?;
    Some(el.scroll_height() - el.scroll_top() - el.client_height() < 48)
}

/// The invitation's code when the page is an invitation's link (`/invite/CODE`).
pub fn invite_code() -> Option<String> {
    path_code("/invite/")
}

/// The code of a password reset link (`/reset/CODE`) the app was opened from.
pub fn reset_code() -> Option<String> {
    path_code("/reset/")
}

fn path_code(prefix: &str) -> Option<String> {
    let path = web_sys::window()?.location().pathname().ok()?;
    let code = path.strip_prefix(prefix)?.trim_end_matches('/');
    (!code.is_empty() && !code.contains('/')).then(|| code.to_owned())
}

/// The chat a notification asked to open (`/?chat=ID`, what the service worker opens
/// when no Parlor window exists), taken out of the address bar once read.
pub fn opened_chat() -> Option<String> {
    let window = web_sys::window()?;
    let search = window.location().search().ok()?;
    let raw = search.strip_prefix("?chat=")?;
    let chat = js_sys::decode_uri_component(raw).ok()?.as_string()?;
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some("/"));
    }
    (!chat.is_empty()).then_some(chat)
}

/// Replaces an invitation's link in the address bar with the app's own (`/`), so that
/// a reload or a bookmark does not offer the used invitation again.
pub fn leave_invite_path() {
    if invite_code().is_none() && reset_code().is_none() {
        return;
    }
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some("/"));
    }
}

pub fn set_title(title: &str) {
    if let Some(d) = document() {
        d.set_title(title);
    }
}

/// The local calendar day of a time, as a number that changes at local midnight.
pub fn local_day(millis: crate::protocol::Millis) -> i64 {
    let d = js_sys::Date::new(&JsValue::from_f64(millis as f64));
    i64::from(d.get_full_year()) * 10_000 + i64::from(d.get_month()) * 100 + i64::from(d.get_date())
}

/// `HH:MM` in the reader's time zone, and the full local date and time.
pub fn format_time(millis: crate::protocol::Millis) -> (String, String) {
    let date = js_sys::Date::new(&JsValue::from_f64(millis as f64));
    let short = format!("{:02}:{:02}", date.get_hours(), date.get_minutes());
    let full = String::from(date.to_locale_string("default", &JsValue::UNDEFINED));
    (short, full)
}

/// "Today", "Yesterday", or the local date ("Monday, 3 March 2025" style).
pub fn day_label(millis: crate::protocol::Millis) -> String {
    let now = js_sys::Date::now();
    let day = local_day(millis);
    if day == local_day(now as crate::protocol::Millis) {
        return "Today".to_owned();
    }
    if day == local_day((now - 86_400_000.0) as crate::protocol::Millis) {
        return "Yesterday".to_owned();
    }
    let date = js_sys::Date::new(&JsValue::from_f64(millis as f64));
    let options = js_sys::Object::new();
    for (k, v) in [
        ("weekday", "long"),
        ("day", "numeric"),
        ("month", "long"),
        ("year", "numeric"),
    ] {
        let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
    }
    String::from(date.to_locale_date_string("default", &options))
}

/// Whether desktop notifications exist here (they need a secure context: https or
/// localhost), and their permission: "default", "granted" or "denied".
pub fn notification_permission() -> Option<String> {
    let window = web_sys::window()?;
    if !js_sys::Reflect::has(&window, &"Notification".into()).unwrap_or(false) {
        return None;
    }
    let p = web_sys::Notification::permission();
    Some(
        match p {
            web_sys::NotificationPermission::Granted => "granted",
            web_sys::NotificationPermission::Denied => "denied",
            _ => "default",
        }
        .to_owned(),
    )
}

/// Shows a desktop notification; clicking it focuses the page and runs `on_click`.
pub fn notify(title: &str, body: &str, tag: &str, on_click: impl FnOnce() + 'static) {
    if notification_permission().as_deref() != Some("granted") {
        return;
    }
    let options = web_sys::NotificationOptions::new();
    options.set_body(body);
    options.set_tag(tag);
    options.set_icon("/public/favicon.svg");
    if let Ok(n) = web_sys::Notification::new_with_options(title, &options) {
        let n2 = n.clone();
        let click = Closure::once_into_js(move || {
            if let Some(w) = web_sys::window() {
                let _ = w.focus();
            }
            n2.close();
            on_click();
        });
        n.set_onclick(Some(click.unchecked_ref()));
    }
}

/// Puts `text` on the clipboard: `navigator.clipboard` where the page is a secure
/// context, else the older `execCommand("copy")` on a hidden text area (plain http on
/// a LAN). Answers whether either was available.
pub fn copy_text(text: &str) -> bool {
    use js_sys::{Function, Reflect};
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = Reflect::get(&window.navigator(), &JsValue::from_str("clipboard"))
        .ok()
        .filter(|c| !c.is_undefined() && !c.is_null());
    if let Some(clipboard) = clipboard {
        let write = Reflect::get(&clipboard, &JsValue::from_str("writeText"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        if let Some(write) = write {
            return write.call1(&clipboard, &JsValue::from_str(text)).is_ok();
        }
    }
    let Some(doc) = window.document() else {
        return false;
    };
    let Some(area) = doc
        .create_element("textarea")
        .ok()
        .and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    else {
        return false;
    };
    area.set_value(text);
    let _ = area.set_attribute("style", "position:fixed;opacity:0");
    let Some(body) = doc.body() else {
        return false;
    };
    if body.append_child(&area).is_err() {
        return false;
    }
    area.select();
    let copied = Reflect::get(&doc, &JsValue::from_str("execCommand"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|f| f.call1(&doc, &JsValue::from_str("copy")).ok())
        .is_some_and(|r| r.as_bool() == Some(true));
    area.remove();
    copied
}
