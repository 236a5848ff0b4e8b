//! A message's attachments: images inline, audio and video with the browser's own
//! controls, and every other file as a card (a badge for its kind, its name and size)
//! that downloads it under its name. Only files of this server load in the viewer's
//! browser; an attachment pointing elsewhere is a plain link. The kind comes from the
//! server, which read it from the file's bytes and serves the file accordingly.

use crate::files::{badge, human_size};
use crate::protocol::Attachment;
use crate::text::{is_own_upload, safe_url};
use leptos::prelude::*;

/// The attachments of one message, or nothing.
pub fn render(attachments: &[Attachment]) -> Option<AnyView> {
    if attachments.is_empty() {
        return None;
    }
    // Without a window (never in a browser) only relative upload URLs count as own.
    let own_origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let items = attachments
        .iter()
        .filter_map(|a| {
            let url = safe_url(&a.url)?.to_owned();
            Some(one(a, url.clone(), is_own_upload(&url, &own_origin)))
        })
        .collect::<Vec<_>>();
    Some(view! { <div class="attachments">{items}</div> }.into_any())
}

fn one(a: &Attachment, url: String, own: bool) -> AnyView {
    let name = if a.filename.is_empty() {
        a.kind.clone()
    } else {
        a.filename.clone()
    };
    match a.kind.as_str() {
        "image" | "audio" | "video" if !own => {
            // Someone else's server: a link, never loaded by the viewer's browser.
            let title = url.clone();
            view! {
                <a class="attachment file external" href=url title=title target="_blank" rel="noopener noreferrer">
                    {format!("{name} (external {})", a.kind)}
                </a>
            }
            .into_any()
        }
        "image" => {
            let (w, h) = (a.meta.width.unwrap_or(320), a.meta.height.unwrap_or(240));
            let href = url.clone();
            view! {
                <a class="attachment" href=href target="_blank" rel="noopener noreferrer">
                    <img
                        src=url
                        alt=name
                        width=w.to_string()
                        height=h.to_string()
                        loading="lazy"
                        decoding="async"
                        style=format!("aspect-ratio: {w} / {h}")
                    />
                </a>
            }
            .into_any()
        }
        "audio" => view! {
            <figure class="attachment media">
                <audio controls preload="metadata" src=url aria-label=name.clone()></audio>
                <figcaption>{name}</figcaption>
            </figure>
        }
        .into_any(),
        "video" => view! {
            <figure class="attachment media">
                <video controls preload="metadata" src=url aria-label=name.clone()></video>
                <figcaption>{name}</figcaption>
            </figure>
        }
        .into_any(),
        _ => card(a, name, url, own),
    }
}

/// A file card: downloads the file (this server names it by `Content-Disposition`).
fn card(a: &Attachment, name: String, url: String, own: bool) -> AnyView {
    let size = a.meta.size.map(human_size);
    let download = own.then(|| name.clone());
    // Named by its visible text ("minutes.pdf 12 KB"): what is seen is what is named.
    view! {
        <a class="attachment file-card" href=url download=download rel="noopener noreferrer">
            <span class="file-badge" aria-hidden="true">{badge(&name)}</span>
            <span class="file-name">{name}</span>
            <span class="visually-hidden">" "</span>
            {size.map(|s| view! { <span class="file-size">{s}</span> })}
        </a>
    }
    .into_any()
}
