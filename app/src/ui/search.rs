//! The search field of the sidebar and its results: hits newest first, each with its
//! chat, sender, time and text, the matching words in `<mark>` (built as elements from
//! the server's character offsets, never as HTML); "no messages found"; a button for
//! older hits. Opening a hit shows the message in its conversation (`show_message`).

use super::platform::format_time;
use super::store::ChatStore;
use crate::protocol::{SearchHit, SearchResults};
use crate::search::split_highlights;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

/// What the results area shows.
#[derive(Clone, Default)]
enum Found {
    #[default]
    Nothing,
    Searching,
    Failed(String),
    Hits {
        query: String,
        hits: Vec<SearchHit>,
        more: bool,
    },
}

#[component]
pub fn SearchBox() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let query = RwSignal::new(String::new());
    let found = RwSignal::new(Found::Nothing);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let q = query.get_untracked();
        if q.trim().is_empty() {
            found.set(Found::Nothing);
            return;
        }
        // The server reads the query (`app::search::parse_query`) and names what is
        // wrong with it; the parser's Unicode tables stay out of the bundle.
        found.set(Found::Searching);
        let asked = q.clone();
        store.search(q, None, move |answer| {
            found.set(match answer {
                Ok(SearchResults { hits, more }) => Found::Hits {
                    query: asked,
                    hits,
                    more,
                },
                Err(e) => Found::Failed(e),
            })
        });
    };

    let older = move |_| {
        let Found::Hits { query, hits, .. } = found.get_untracked() else {
            return;
        };
        let before = hits.last().map(|h| h.message_id);
        store.search(query, before, move |answer| match answer {
            Ok(page) => found.update(|f| {
                if let Found::Hits { hits, more, .. } = f {
                    hits.extend(page.hits);
                    *more = page.more;
                }
            }),
            Err(e) => found.set(Found::Failed(e)),
        });
    };

    view! {
        <form class="search" role="search" aria-label="Search messages" on:submit=on_submit>
            <input
                type="search"
                aria-label="Search messages"
                placeholder="Search messages"
                maxlength=crate::search::MAX_QUERY_BYTES.to_string()
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
            />
            <button type="submit" class="quiet">"Search"</button>
        </form>
        {move || match found.get() {
            Found::Nothing => ().into_any(),
            Found::Searching => view! { <p class="search-status" role="status">"Searching…"</p> }.into_any(),
            Found::Failed(why) => view! { <p class="search-status" role="alert">{why}</p> }.into_any(),
            Found::Hits { hits, more, .. } => {
                let count = if hits.is_empty() {
                    "No messages found".to_owned()
                } else if more {
                    format!("{} or more messages found", hits.len())
                } else if hits.len() == 1 {
                    "1 message found".to_owned()
                } else {
                    format!("{} messages found", hits.len())
                };
                view! {
                    <section class="search-results" aria-label="Search results">
                        <p class="search-status" role="status">{count}</p>
                        <ul>
                            {hits.into_iter().map(|hit| view! { <HitRow hit /> }).collect_view()}
                        </ul>
                        <Show when=move || more>
                            <button type="button" class="quiet" on:click=older>"Older results"</button>
                        </Show>
                        <button type="button" class="quiet" on:click=move |_| found.set(Found::Nothing)>
                            "Close search"
                        </button>
                    </section>
                }
                .into_any()
            }
        }}
    }
}

/// One hit: a button that opens the message in its chat.
#[component]
fn HitRow(hit: SearchHit) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let (time, full) = format_time(hit.created_at);
    let pieces = split_highlights(&hit.message, &hit.highlights);
    let chat = hit.chat_id.clone();
    let id = hit.message_id;
    let open = move |_| {
        store.drawer_open.set(false);
        store.show_message(chat.clone(), id);
    };
    view! {
        <li>
            <button type="button" class="search-hit" on:click=open>
                <span class="hit-meta">
                    <span class="hit-chat">{hit.chat_id}</span>
                    " · "
                    <span class="hit-sender">{hit.sender}</span>
                    " · "
                    <time title=full>{time}</time>
                </span>
                <span class="hit-text">
                    {pieces
                        .into_iter()
                        .map(|(text, marked)| {
                            if marked {
                                view! { <mark>{text}</mark> }.into_any()
                            } else {
                                text.into_any()
                            }
                        })
                        .collect_view()}
                </span>
            </button>
        </li>
    }
}
