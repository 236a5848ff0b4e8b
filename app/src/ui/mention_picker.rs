//! The `@` picker of the composer: typing `@` offers the chat's people (a room's
//! members, or the other person of a direct chat) in a listbox under the box, filtered
//! as one types. The message box stays focused and points at the highlighted option
//! (`aria-activedescendant`, `aria-controls`, `aria-autocomplete="list"`: the ARIA
//! combobox pattern on a multi-line box); ArrowUp/ArrowDown move, Enter or Tab
//! insert `@name `, Escape closes, and a click picks. Which text is a mention being
//! typed is [`crate::mentions`]'s reading.

use super::store::ChatStore;
use crate::mentions::{byte_to_utf16, complete, matching, typing_at, utf16_to_byte};
use leptos::ev::KeyboardEvent;
use leptos::html;
use leptos::prelude::*;

/// Options shown at most.
const SHOWN: usize = 8;

pub const LIST_ID: &str = "mention-list";

/// The picker's state; `Copy`, like the store.
#[derive(Clone, Copy)]
pub struct MentionPicker {
    /// The byte offset of the `@` being completed and the caret, while one is typed.
    typing: RwSignal<Option<(usize, usize)>>,
    typed: RwSignal<String>,
    active: RwSignal<usize>,
    pub options: Memo<Vec<String>>,
}

impl MentionPicker {
    pub fn new(store: ChatStore) -> MentionPicker {
        let typed = RwSignal::new(String::new());
        let typing = RwSignal::new(None::<(usize, usize)>);
        let options = Memo::new(move |_| {
            if typing.get().is_none() {
                return Vec::new();
            }
            let chat = store.current_chat.get();
            let me = store.user().unwrap_or_default();
            let people: Vec<String> = if crate::text::is_room(&chat) {
                store
                    .members
                    .with(|m| m.get(&chat).cloned().unwrap_or_default())
            } else {
                vec![chat]
            };
            let people: Vec<String> = people
                .into_iter()
                .filter(|p| !p.eq_ignore_ascii_case(&me))
                .collect();
            typed.with(|t| {
                matching(&people, t, SHOWN)
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            })
        });
        MentionPicker {
            typing,
            typed,
            active: RwSignal::new(0),
            options,
        }
    }

    pub fn is_open(&self) -> bool {
        !self.options.with(Vec::is_empty)
    }

    /// The id of the highlighted option, while the list is open.
    pub fn active_id(&self) -> Option<String> {
        self.is_open()
            .then(|| format!("mention-option-{}", self.active.get()))
    }

    pub fn close(&self) {
        self.typing.set(None);
    }

    /// The box changed: is a mention being typed at the caret?
    pub fn on_input(&self, box_: &web_sys::HtmlTextAreaElement) {
        let text = box_.value();
        let caret = box_
            .selection_start()
            .ok()
            .flatten()
            .map_or(text.len(), |u| utf16_to_byte(&text, u as usize));
        match typing_at(&text, caret) {
            Some((at, word)) => {
                self.typed.set(word.to_owned());
                self.typing.set(Some((at, caret)));
                self.active.set(0);
            }
            None => self.close(),
        }
    }

    /// A key in the box; true when the picker took it.
    pub fn on_keydown(
        &self,
        ev: &KeyboardEvent,
        text: RwSignal<String>,
        input: NodeRef<html::Textarea>,
    ) -> bool {
        if !self.is_open() {
            return false;
        }
        let n = self.options.with_untracked(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" => self.active.update(|a| *a = (*a + 1) % n),
            "ArrowUp" => self.active.update(|a| *a = (*a + n - 1) % n),
            "Enter" | "Tab" if !ev.is_composing() => {
                let i = self.active.get_untracked().min(n - 1);
                if let Some(name) = self.options.with_untracked(|o| o.get(i).cloned()) {
                    self.pick(&name, text, input);
                }
            }
            "Escape" => self.close(),
            _ => return false,
        }
        ev.prevent_default();
        true
    }

    /// Inserts `@name ` in place of the mention being typed.
    pub fn pick(&self, name: &str, text: RwSignal<String>, input: NodeRef<html::Textarea>) {
        let Some((at, caret)) = self.typing.get_untracked() else {
            return;
        };
        let (new_text, new_caret) = text.with_untracked(|t| complete(t, at, caret, name));
        let caret16 = byte_to_utf16(&new_text, new_caret) as u32;
        text.set(new_text.clone());
        self.close();
        if let Some(el) = input.get_untracked() {
            el.set_value(&new_text);
            let _ = el.set_selection_range(caret16, caret16);
            let _ = el.focus();
        }
    }
}

/// The listbox under the message box.
#[component]
pub fn MentionList(
    picker: MentionPicker,
    text: RwSignal<String>,
    input: NodeRef<html::Textarea>,
) -> impl IntoView {
    view! {
        <Show when=move || picker.is_open()>
            <ul class="mention-list popover" id=LIST_ID role="listbox" aria-label="People to mention">
                {move || {
                    picker
                        .options
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, name)| {
                            let selected = move || picker.active.get() == i;
                            let label = name.clone();
                            view! {
                                <li
                                    id=format!("mention-option-{i}")
                                    role="option"
                                    class="mention-option"
                                    class:active=selected
                                    aria-selected=move || selected().to_string()
                                    on:mousedown=|ev| ev.prevent_default()
                                    on:click=move |_| picker.pick(&name, text, input)
                                >
                                    {label}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </Show>
    }
}
