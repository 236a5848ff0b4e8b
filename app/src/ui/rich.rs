//! A message's text as elements: the tree of [`crate::markdown`] rendered to `strong`,
//! `em`, `del`, `code`, `pre`, `blockquote`, lists and links, never through
//! `inner_html`, so no text of a message is ever read as HTML. Text without markup is
//! one `<p class="text">` holding text nodes and links, exactly as before formatting.

use crate::markdown::{parse, Block, Inline};
use leptos::prelude::*;

/// The elements of a message's text.
pub fn message_text(text: &str) -> AnyView {
    let blocks = parse(text);
    match blocks.as_slice() {
        [Block::Para(inlines)] => view! { <p class="text">{inlines_view(inlines)}</p> }.into_any(),
        _ => view! { <div class="rich">{blocks_view(&blocks)}</div> }.into_any(),
    }
}

fn blocks_view(blocks: &[Block]) -> Vec<AnyView> {
    blocks.iter().map(block_view).collect()
}

fn block_view(block: &Block) -> AnyView {
    match block {
        Block::Para(inlines) => view! { <p class="text">{inlines_view(inlines)}</p> }.into_any(),
        Block::Code { lang, code } => code_block(lang.clone(), code.clone()),
        Block::Quote(inner) => view! { <blockquote>{blocks_view(inner)}</blockquote> }.into_any(),
        Block::List {
            start: Some(start),
            items,
        } => view! { <ol start=start.to_string()>{items_view(items)}</ol> }.into_any(),
        Block::List { start: None, items } => view! { <ul>{items_view(items)}</ul> }.into_any(),
    }
}

fn items_view(items: &[Vec<Block>]) -> Vec<AnyView> {
    items
        .iter()
        .map(|item| match item.as_slice() {
            [Block::Para(inlines)] => view! { <li>{inlines_view(inlines)}</li> }.into_any(),
            _ => view! { <li>{blocks_view(item)}</li> }.into_any(),
        })
        .collect()
}

/// A code block: its language as a label, a "Copy" button, the code.
fn code_block(lang: String, code: String) -> AnyView {
    let copied = RwSignal::new(false);
    let label = if lang.is_empty() {
        "Copy code".to_owned()
    } else {
        format!("Copy {lang} code")
    };
    let text = code.clone();
    let copy = move |_| {
        if super::platform::copy_text(&text) {
            copied.set(true);
            set_timeout(
                move || copied.set(false),
                std::time::Duration::from_millis(1500),
            );
        }
    };
    view! {
        <figure class="code-block">
            <figcaption>
                <span class="code-lang">{lang}</span>
                <button type="button" class="quiet small" aria-label=label on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </figcaption>
            <pre><code>{code}</code></pre>
        </figure>
    }
    .into_any()
}

fn inlines_view(inlines: &[Inline]) -> Vec<AnyView> {
    inlines.iter().map(inline_view).collect()
}

fn inline_view(inline: &Inline) -> AnyView {
    match inline {
        Inline::Text(t) => t.clone().into_any(),
        Inline::Strong(c) => view! { <strong>{inlines_view(c)}</strong> }.into_any(),
        Inline::Em(c) => view! { <em>{inlines_view(c)}</em> }.into_any(),
        Inline::Strike(c) => view! { <del>{inlines_view(c)}</del> }.into_any(),
        Inline::Code(c) => view! { <code>{c.clone()}</code> }.into_any(),
        Inline::Link { text, url } => view! {
            <a href=url.clone() target="_blank" rel="noopener noreferrer">{text.clone()}</a>
        }
        .into_any(),
    }
}
