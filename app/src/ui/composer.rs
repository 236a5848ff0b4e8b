//! The message box: Enter sends, Shift+Enter starts a new line, Escape cancels an
//! edit, ArrowUp in an empty box edits the last own message. Files of any type are
//! picked, dropped or pasted, uploaded at once and sent with the next message. `@`
//! offers the chat's people (`mention_picker`). What is typed is kept as the chat's
//! draft (across reloads) until it is sent.

use super::mention_picker::{MentionList, MentionPicker};
use super::store::ChatStore;
use super::upload::upload;
use crate::protocol::Attachment;
use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::html;
use leptos::prelude::*;

#[component]
pub fn Composer() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let text = RwSignal::new(String::new());
    let staged = RwSignal::new(Vec::<Attachment>::new());
    let uploading = RwSignal::new(0u32);
    let input = NodeRef::<html::Textarea>::new();
    let file_input = NodeRef::<html::Input>::new();
    let picker = MentionPicker::new(store);

    let focus = move || {
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
        }
    };
    // Editing: the message's text goes into the box.
    Effect::new(move |_| {
        if let Some((_, old)) = store.editing.get() {
            text.set(old);
            focus();
        }
    });
    // Another chat: an unfinished edit is dropped, and that chat's draft comes back.
    Effect::new(move |prev: Option<String>| {
        let chat = store.current_chat.get();
        if prev.as_ref() != Some(&chat) {
            if prev.is_some() {
                staged.set(Vec::new());
            }
            text.set(store.draft(&chat));
        }
        chat
    });
    // After an edit (saved or cancelled) the draft it covered comes back.
    let restore_draft = move || text.set(store.draft(&store.current_chat.get_untracked()));

    let send = move || {
        let message = text.get_untracked();
        if let Some((id, old)) = store.editing.get_untracked() {
            if !message.trim().is_empty() && message != old {
                store.edit(id, message);
            }
            store.editing.set(None);
            restore_draft();
            return;
        }
        let attachments = staged.get_untracked();
        if message.trim().is_empty() && attachments.is_empty() {
            return;
        }
        if message.len() > crate::protocol::MAX_MESSAGE_BYTES {
            store.notice.set(Some(format!(
                "This message is too long ({} bytes; at most {}).",
                message.len(),
                crate::protocol::MAX_MESSAGE_BYTES
            )));
            return;
        }
        if uploading.get_untracked() > 0 {
            store
                .notice
                .set(Some("Wait for the file to finish uploading.".to_owned()));
            return;
        }
        store.send(message, attachments);
        store.keep_draft(&store.current_chat.get_untracked(), "");
        text.set(String::new());
        staged.set(Vec::new());
        focus();
    };
    let cancel_edit = move || {
        store.editing.set(None);
        restore_draft();
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send();
    };
    let me = store.user().unwrap_or_default();
    let on_keydown = move |ev: KeyboardEvent| match ev.key().as_str() {
        _ if picker.on_keydown(&ev, text, input) => {}
        "Enter" if !ev.shift_key() && !ev.is_composing() => {
            ev.prevent_default();
            send();
        }
        "Escape" if store.editing.get_untracked().is_some() => {
            ev.prevent_default();
            cancel_edit();
        }
        "Escape" if store.replying.get_untracked().is_some() => {
            ev.prevent_default();
            store.replying.set(None);
        }
        "ArrowUp" if text.get_untracked().is_empty() => {
            let chat = store.current_chat.get_untracked();
            let last = store.timelines.with_untracked(|t| {
                t.get(&chat).and_then(|t| {
                    t.lines()
                        .iter()
                        .rev()
                        .find(|l| {
                            l.sender.eq_ignore_ascii_case(&me)
                                && !l.deleted
                                && l.message_id.is_some()
                        })
                        .map(|l| (l.message_id.unwrap_or_default(), l.text.clone()))
                })
            });
            if let Some(last) = last {
                ev.prevent_default();
                store.editing.set(Some(last));
            }
        }
        _ => {}
    };

    let add_files = move |files: Vec<web_sys::File>| {
        let Some(token) = store.token() else {
            store
                .notice
                .set(Some("Log in again to upload files.".to_owned()));
            return;
        };
        for file in files {
            uploading.update(|n| *n += 1);
            let token = token.clone();
            leptos::task::spawn_local(async move {
                match upload(&token, &file).await {
                    Ok(a) => staged.update(|s| s.push(a)),
                    Err(e) => store
                        .notice
                        .set(Some(format!("Could not upload {}: {e}", file.name()))),
                }
                uploading.update(|n| *n = n.saturating_sub(1));
                focus();
            });
        }
    };
    let on_pick = move |_| {
        let Some(el) = file_input.get_untracked() else {
            return;
        };
        let files = el.files().map(|list| file_list(&list)).unwrap_or_default();
        add_files(files);
        el.set_value("");
    };
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        let Some(data) = ev.clipboard_data() else {
            return;
        };
        let files = data
            .files()
            .map(|list| file_list(&list))
            .unwrap_or_default();
        let images: Vec<_> = files
            .into_iter()
            .filter(|f| f.type_().starts_with("image/"))
            .collect();
        if !images.is_empty() {
            ev.prevent_default();
            add_files(images);
        }
    };

    let on_drop = move |ev: leptos::ev::DragEvent| {
        let Some(data) = ev.data_transfer() else {
            return;
        };
        let files = data
            .files()
            .map(|list| file_list(&list))
            .unwrap_or_default();
        if !files.is_empty() {
            ev.prevent_default();
            add_files(files);
        }
    };

    let placeholder = move || {
        let chat = store.current_chat.get();
        match chat.strip_prefix('#') {
            Some(room) => format!("Message #{room}"),
            None => format!("Message {chat}"),
        }
    };
    let editing = move || store.editing.get().is_some();
    view! {
        <form
            class="composer"
            on:submit=on_submit
            on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default()
            on:drop=on_drop
        >
            <super::replies::ReplyNote />
            <Show when=editing>
                <div class="composer-note">
                    <span>"Editing message"</span>
                    <button type="button" class="quiet small" on:click=move |_| cancel_edit()>"Cancel"</button>
                </div>
            </Show>
            <Show when=move || !staged.with(Vec::is_empty) || uploading.get() != 0>
                <ul class="staged" aria-label="Attachments to send">
                    {move || staged.get().into_iter().map(move |a| {
                            let id = a.id.clone();
                            let src = crate::text::safe_url(&a.url).unwrap_or_default().to_owned();
                            view! {
                                <li class="chip">
                                    {if a.kind == "image" {
                                        view! { <img src=src alt="" width="32" height="32" /> }.into_any()
                                    } else {
                                        view! { <span class="file-badge" aria-hidden="true">{crate::files::badge(&a.filename)}</span> }.into_any()
                                    }}
                                    <span class="chip-name">{a.filename.clone()}</span>
                                    <button
                                        type="button"
                                        class="quiet small"
                                        aria-label=format!("Remove {}", a.filename)
                                        on:click=move |_| staged.update(|s| s.retain(|x| x.id != id))
                                    >"×"</button>
                                </li>
                            }
                        }).collect_view()}
                    <Show when=move || uploading.get() != 0>
                        <li class="chip" role="status">"Uploading…"</li>
                    </Show>
                </ul>
            </Show>
            <MentionList picker=picker text=text input=input />
            <div class="composer-row">
                <input
                    id="attach-input"
                    node_ref=file_input
                    type="file"
                    multiple
                    class="visually-hidden"
                    aria-label="Attach file"
                    on:change=on_pick
                />
                <label for="attach-input" class="icon-button" title="Attach a file" aria-hidden="true">
                    <svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                        <path d="M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5"></path>
                    </svg>
                </label>
                <label for="composer-input" class="visually-hidden">"Message"</label>
                <textarea
                    id="composer-input"
                    node_ref=input
                    rows="1"
                    enterkeyhint="send"
                    placeholder=placeholder
                    prop:value=text
                    aria-autocomplete="list"
                    aria-controls=move || picker.is_open().then_some(super::mention_picker::LIST_ID)
                    aria-activedescendant=move || picker.active_id()
                    on:blur=move |_| picker.close()
                    on:input=move |ev| {
                        text.set(event_target_value(&ev));
                        if let Some(el) = input.get_untracked() {
                            picker.on_input(&el);
                        }
                        if store.editing.get_untracked().is_none() {
                            store.typed();
                            store.keep_draft(&store.current_chat.get_untracked(), &text.get_untracked());
                        }
                    }
                    on:keydown=on_keydown
                    on:paste=on_paste
                ></textarea>
                <button type="submit" class="primary">{move || if editing() { "Save" } else { "Send" }}</button>
            </div>
        </form>
    }
}

fn file_list(list: &web_sys::FileList) -> Vec<web_sys::File> {
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}
