//! What a client can ask: [`Request`], its [`RequestBody`] keyed by `payloadType`,
//! and one payload type per request. The mapping between a `payloadType` string and a
//! variant is written out once each way here, so that adding a request touches one file.

use super::envelope::ParseError;
use super::{
    codes, Attachment, BanRequest, CreateInviteRequest, EventId, MemberRequest, MessageId, Millis,
    MuteRequest, NotifyLevel, PinRequest, ReactRequest, RevokeInviteRequest,
    SetRegistrationRequest, SetRoleRequest, SetRoomRequest, Status,
};
use super::{BlockRequest, SetProfileRequest, UserRequest};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A request; answered by a [`Response`] with the same `id`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub id: String,
    pub timestamp: Millis,
    #[serde(flatten)]
    pub body: RequestBody,
}

/// What a request asks, keyed by `payloadType`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "payloadType", content = "payload", rename_all = "camelCase")]
pub enum RequestBody {
    Auth(AuthRequest),
    Subscribe(SubscribeRequest),
    New(NewRequest),
    Edit(EditRequest),
    Delete(DeleteRequest),
    Dlvrd(ReceiptRequest),
    Read(ReceiptRequest),
    GetMessages(GetMessagesRequest),
    GetMessage(GetMessageRequest),
    GetChat(ChatRequest),
    GetChats(Empty),
    CreateRoom(CreateRoomRequest),
    JoinRoom(ChatRequest),
    LeaveRoom(ChatRequest),
    ListRooms(Empty),
    GetMembers(ChatRequest),
    ListUsers(Empty),
    SetStatus(SetStatusRequest),
    GetReceipts(ChatRequest),
    Logout(Empty),
    LogoutEverywhere(Empty),
    ChangePassword(ChangePasswordRequest),
    ClearRoom(ChatRequest),
    Search(SearchRequest),
    React(ReactRequest),
    Pin(PinRequest),
    GetPins(ChatRequest),
    SetNotify(SetNotifyRequest),
    SetRegistration(SetRegistrationRequest),
    CreateInvite(CreateInviteRequest),
    GetInvites(Empty),
    RevokeInvite(RevokeInviteRequest),
    Ban(BanRequest),
    GetBans(Empty),
    SetRoom(SetRoomRequest),
    AddMember(MemberRequest),
    Kick(MemberRequest),
    Mute(MuteRequest),
    SetRole(SetRoleRequest),
    GetStorage(Empty),
    SetProfile(SetProfileRequest),
    GetProfile(UserRequest),
    Block(BlockRequest),
    GetBlocks(Empty),
    CreateReset(super::CreateResetRequest),
    SetDeletedMessages(super::SetDeletedMessagesRequest),
    GetAccountSettings(Empty),
    DeleteAccount(super::DeleteAccountRequest),
    PushSubscribe(super::PushSubscribeRequest),
    PushUnsubscribe(super::PushEndpoint),
    GetNtfyTopic(Empty),
    ResetNtfyTopic(super::ResetNtfyTopicRequest),
}

impl RequestBody {
    pub(super) fn from_parts(
        payload_type: &str,
        payload: Option<&str>,
    ) -> Result<RequestBody, ParseError> {
        fn p<T: DeserializeOwned>(payload: Option<&str>) -> Result<T, ParseError> {
            serde_json::from_str(payload.unwrap_or("{}"))
                .map_err(|e| ParseError::new(codes::BAD_REQUEST, format!("invalid payload: {e}")))
        }
        Ok(match payload_type {
            "auth" => RequestBody::Auth(p(payload)?),
            "subscribe" => RequestBody::Subscribe(p(payload)?),
            "new" => RequestBody::New(p(payload)?),
            "edit" => RequestBody::Edit(p(payload)?),
            "delete" => RequestBody::Delete(p(payload)?),
            "dlvrd" => RequestBody::Dlvrd(p(payload)?),
            "read" => RequestBody::Read(p(payload)?),
            "getMessages" => RequestBody::GetMessages(p(payload)?),
            "getMessage" => RequestBody::GetMessage(p(payload)?),
            "getChat" => RequestBody::GetChat(p(payload)?),
            "getChats" => RequestBody::GetChats(p(payload)?),
            "createRoom" => RequestBody::CreateRoom(p(payload)?),
            "joinRoom" => RequestBody::JoinRoom(p(payload)?),
            "leaveRoom" => RequestBody::LeaveRoom(p(payload)?),
            "listRooms" => RequestBody::ListRooms(p(payload)?),
            "getMembers" => RequestBody::GetMembers(p(payload)?),
            "listUsers" => RequestBody::ListUsers(p(payload)?),
            "setStatus" => RequestBody::SetStatus(p(payload)?),
            "getReceipts" => RequestBody::GetReceipts(p(payload)?),
            "logout" => RequestBody::Logout(p(payload)?),
            "logoutEverywhere" => RequestBody::LogoutEverywhere(p(payload)?),
            "changePassword" => RequestBody::ChangePassword(p(payload)?),
            "clearRoom" => RequestBody::ClearRoom(p(payload)?),
            "search" => RequestBody::Search(p(payload)?),
            "react" => RequestBody::React(p(payload)?),
            "pin" => RequestBody::Pin(p(payload)?),
            "getPins" => RequestBody::GetPins(p(payload)?),
            "setNotify" => RequestBody::SetNotify(p(payload)?),
            "setRegistration" => RequestBody::SetRegistration(p(payload)?),
            "createInvite" => RequestBody::CreateInvite(p(payload)?),
            "getInvites" => RequestBody::GetInvites(p(payload)?),
            "revokeInvite" => RequestBody::RevokeInvite(p(payload)?),
            "ban" => RequestBody::Ban(p(payload)?),
            "getBans" => RequestBody::GetBans(p(payload)?),
            "setRoom" => RequestBody::SetRoom(p(payload)?),
            "addMember" => RequestBody::AddMember(p(payload)?),
            "kick" => RequestBody::Kick(p(payload)?),
            "mute" => RequestBody::Mute(p(payload)?),
            "setRole" => RequestBody::SetRole(p(payload)?),
            "getStorage" => RequestBody::GetStorage(p(payload)?),
            "setProfile" => RequestBody::SetProfile(p(payload)?),
            "getProfile" => RequestBody::GetProfile(p(payload)?),
            "block" => RequestBody::Block(p(payload)?),
            "getBlocks" => RequestBody::GetBlocks(p(payload)?),
            "createReset" => RequestBody::CreateReset(p(payload)?),
            "setDeletedMessages" => RequestBody::SetDeletedMessages(p(payload)?),
            "getAccountSettings" => RequestBody::GetAccountSettings(p(payload)?),
            "deleteAccount" => RequestBody::DeleteAccount(p(payload)?),
            "pushSubscribe" => RequestBody::PushSubscribe(p(payload)?),
            "pushUnsubscribe" => RequestBody::PushUnsubscribe(p(payload)?),
            "getNtfyTopic" => RequestBody::GetNtfyTopic(p(payload)?),
            "resetNtfyTopic" => RequestBody::ResetNtfyTopic(p(payload)?),
            other => {
                return Err(ParseError::new(
                    codes::UNKNOWN_TYPE,
                    format!("unknown payloadType {other:?}"),
                ))
            }
        })
    }
}

/// A payload with no fields (`{}` or absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Empty {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub username: String,
    /// The password; an unknown username is registered with it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    /// Instead of the password: a session token from an earlier login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// An invitation's code: lets an unknown name register while registration is
    /// `invite` (and gives the account the invitation's role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<String>,
    /// A password reset link's code: `password` becomes the account's new password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribeRequest {
    /// Replay events after this id; absent: after the last event this user acked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event_id: Option<EventId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRequest {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// The message of the same chat this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditRequest {
    pub chat_id: String,
    pub message_id: MessageId,
    pub message: String,
    /// Absent: keep the attachments; present: replace them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Attachment>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteRequest {
    pub chat_id: String,
    pub message_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
}

/// `dlvrd` and `read`: a watermark; without `messageId`, up to the chat's latest message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptRequest {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetMessagesRequest {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_id: Option<MessageId>,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetMessageRequest {
    pub chat_id: String,
    pub message_id: MessageId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatRequest {
    pub chat_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateRoomRequest {
    pub name: String,
    /// A private room: listed only to its members, joined by being added.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetStatusRequest {
    pub status: Status,
}

/// `changePassword`: the current password and the new one (answered by
/// [`super::ChangePasswordOk`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    pub old_password: String,
    pub new_password: String,
}

/// `search`: messages with these words in every chat the user can read, newest first
/// (answered by [`super::SearchResults`]). The query's words and filters are read by
/// [`crate::search::parse_query`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    pub query: String,
    /// Only messages older than this one (the next page: the last hit's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_id: Option<MessageId>,
    /// Hits wanted, 1 to 50 (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `setNotify`: how much of a chat notifies this user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetNotifyRequest {
    pub chat_id: String,
    pub level: NotifyLevel,
}
