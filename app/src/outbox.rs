//! Messages written but not yet accepted by the server. The web app keeps them in
//! `localStorage` (so they survive a reload), shows them as pending, and sends them,
//! in order, whenever it is connected; their `clientMessageId` makes a resend after a
//! lost answer harmless (the server stores and delivers a message once).

use crate::protocol::{Attachment, MessageId, Millis, NewRequest};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outgoing {
    pub chat_id: String,
    pub client_message_id: String,
    pub message: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    pub created_at: Millis,
    /// The message this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
}

impl Outgoing {
    pub fn request(&self) -> NewRequest {
        NewRequest {
            chat_id: self.chat_id.clone(),
            client_message_id: Some(self.client_message_id.clone()),
            message: self.message.clone(),
            attachments: self.attachments.clone(),
            reply_to: self.reply_to,
        }
    }
}

/// A new `clientMessageId` made of the time and four random numbers. Made here rather
/// than with `crypto.randomUUID`, which browsers offer only in secure contexts, so that
/// the app also works over plain http on a LAN.
pub fn client_message_id(now: Millis, random: [u32; 4]) -> String {
    let mut id = format!("{now:x}-");
    for part in random {
        id.push_str(&format!("{part:08x}"));
    }
    id
}

/// The queue, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    pub items: Vec<Outgoing>,
}

impl Outbox {
    /// Reads a stored queue; anything unreadable counts as empty.
    pub fn parse(json: Option<&str>) -> Outbox {
        json.and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"items\":[]}".to_owned())
    }

    /// Adds a message unless one with the same `clientMessageId` is queued.
    pub fn push(&mut self, item: Outgoing) {
        if !self
            .items
            .iter()
            .any(|i| i.client_message_id == item.client_message_id)
        {
            self.items.push(item);
        }
    }

    /// Removes a message (accepted or refused); true if it was queued.
    pub fn remove(&mut self, client_message_id: &str) -> bool {
        let before = self.items.len();
        self.items
            .retain(|i| i.client_message_id != client_message_id);
        self.items.len() != before
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(cid: &str) -> Outgoing {
        Outgoing {
            chat_id: "#General".into(),
            client_message_id: cid.into(),
            message: format!("text {cid}"),
            attachments: vec![],
            created_at: 1,
            reply_to: None,
        }
    }

    #[test]
    fn queue_round_trips_and_dedups() {
        let mut o = Outbox::default();
        o.push(out("a"));
        o.push(out("b"));
        o.push(out("a"));
        assert_eq!(o.items.len(), 2);
        let back = Outbox::parse(Some(&o.to_json()));
        assert_eq!(back, o);
        assert!(o.remove("a"));
        assert!(!o.remove("a"));
        assert_eq!(o.items[0].client_message_id, "b");
        assert_eq!(o.items[0].request().client_message_id.as_deref(), Some("b"));
    }

    #[test]
    fn client_message_ids_are_time_then_fixed_width_random() {
        assert_eq!(
            client_message_id(255, [1, 0xabc, 0, u32::MAX]),
            "ff-0000000100000abc00000000ffffffff"
        );
    }

    #[test]
    fn unreadable_storage_is_an_empty_queue() {
        assert!(Outbox::parse(None).is_empty());
        assert!(Outbox::parse(Some("not json")).is_empty());
        assert!(Outbox::parse(Some("{\"items\":[{}]}")).is_empty());
    }
}
