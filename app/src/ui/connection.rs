//! One WebSocket to the server's native protocol (`/ws`).
//!
//! It numbers requests, matches each response to its request by `id`, acknowledges
//! every event that carries an `id`, and hands events to its owner. It knows nothing of
//! the app's state: [`super::store`] decides what a response or an event means.

use crate::protocol::{
    Ack, ClientEvent, ClientEventBody, ClientFrame, Event, Millis, RequestBody, ServerFrame,
};
use crate::reply::{self, Reply};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

type OnReply = Box<dyn FnOnce(Reply)>;

/// Milliseconds since the Unix epoch, by the browser's clock.
pub fn now() -> Millis {
    js_sys::Date::now() as Millis
}

/// The `/ws` URL on the host that served the page (`wss:` when the page is `https:`).
pub fn socket_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = match location.protocol().ok()?.as_str() {
        "https:" => "wss:",
        _ => "ws:",
    };
    Some(format!("{scheme}//{}/ws", location.host().ok()?))
}

#[derive(Default)]
struct Pending {
    next_id: u64,
    waiting: HashMap<String, OnReply>,
}

impl Pending {
    /// Every waiting request fails: the connection is gone.
    fn fail_all(this: &RefCell<Pending>) {
        let waiting = std::mem::take(&mut this.borrow_mut().waiting);
        for (_, on_reply) in waiting {
            on_reply(Err(reply::closed("The connection to the server was lost.")));
        }
    }
}

/// An open (or opening) connection. Dropping it closes the socket without calling
/// `on_close`.
pub struct Connection {
    ws: WebSocket,
    pending: Rc<RefCell<Pending>>,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Connection {
    /// Opens a socket to `url`. `on_open` runs once it is open, `on_event` for every
    /// event the server pushes, `on_close` once when it closes (or fails to open),
    /// after every request still waiting has been answered with a [`reply::CLOSED`] error.
    pub fn open(
        url: &str,
        on_open: impl FnOnce() + 'static,
        on_event: impl Fn(Event) + 'static,
        on_close: impl FnOnce() + 'static,
    ) -> Result<Connection, JsValue> {
        let ws = WebSocket::new(url)?;
        let pending = Rc::new(RefCell::new(Pending::default()));

        let mut on_open = Some(on_open);
        let on_open = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = on_open.take() {
                f();
            }
        });

        let on_message = {
            let pending = Rc::clone(&pending);
            let ws = ws.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |msg: MessageEvent| {
                let Some(text) = msg.data().as_string() else {
                    return;
                };
                match ServerFrame::parse(&text) {
                    Ok(ServerFrame::Response(response)) => {
                        // Release the borrow before the callback: it may send requests.
                        let on_reply = pending.borrow_mut().waiting.remove(&response.id);
                        if let Some(on_reply) = on_reply {
                            on_reply(match response.error {
                                Some(error) => Err(error),
                                None => Ok(response),
                            });
                        }
                    }
                    Ok(ServerFrame::Event(event)) => {
                        let id = event.id;
                        on_event(event);
                        if let Some(id) = id {
                            let _ = ws.send_with_str(&ClientFrame::Ack(Ack { id }).to_json());
                        }
                    }
                    Err(e) => log(&format!("parlor: unreadable frame from the server: {e}")),
                }
            })
        };

        let mut on_close = Some(on_close);
        let on_close = {
            let pending = Rc::clone(&pending);
            Closure::<dyn FnMut(CloseEvent)>::new(move |_: CloseEvent| {
                Pending::fail_all(&pending);
                if let Some(f) = on_close.take() {
                    f();
                }
            })
        };

        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Connection {
            ws,
            pending,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Sends a request; `on_reply` runs with its response, or with an error if the
    /// connection closes first.
    pub fn request(&self, body: RequestBody, on_reply: impl FnOnce(Reply) + 'static) {
        let id = {
            let mut pending = self.pending.borrow_mut();
            pending.next_id += 1;
            // Prefixed: the server answers an `ack` with a response whose `id` is the
            // event id ("7"), which must never be taken for the answer to a request.
            let id = format!("r{}", pending.next_id);
            pending.waiting.insert(id.clone(), Box::new(on_reply));
            id
        };
        let frame = ClientFrame::request(id.clone(), now(), body);
        if let Err(e) = self.ws.send_with_str(&frame.to_json()) {
            log(&format!("parlor: send failed: {e:?}"));
            let on_reply = self.pending.borrow_mut().waiting.remove(&id);
            if let Some(on_reply) = on_reply {
                on_reply(Err(reply::closed("Not connected to the server.")));
            }
        }
    }

    /// Sends a client event (typing, idle, …); lost silently if the socket is closed.
    pub fn send_event(&self, body: ClientEventBody) {
        let frame = ClientFrame::Event(ClientEvent {
            timestamp: now(),
            body,
        });
        let _ = self.ws.send_with_str(&frame.to_json());
    }

    /// True while the socket is open.
    pub fn is_open(&self) -> bool {
        self.ws.ready_state() == WebSocket::OPEN
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
        // Dropped requests are answered too, so no caller waits forever.
        Pending::fail_all(&self.pending);
    }
}

fn log(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(message));
}
