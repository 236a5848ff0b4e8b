//! The owner's and admins' requests about who may join: the registration mode and
//! invitations (`setRegistration`, `createInvite`, `getInvites`, `revokeInvite`), each
//! answered to the panel that asked, with the server's message when refused.

use super::ChatStore;
use crate::protocol::{
    BanList, BanRequest, CreateInviteRequest, Empty, InviteList, NewInvite, Registration,
    RegistrationState, RequestBody, RevokeInviteRequest, SetRegistrationRequest,
};
use serde::de::DeserializeOwned;

impl ChatStore {
    /// Sends `body` and answers its payload, or the refusal's message.
    fn ask<T: DeserializeOwned + 'static>(
        &self,
        body: RequestBody,
        done: impl FnOnce(Result<T, String>) + 'static,
    ) {
        self.request::<T>(body, move |answer| done(answer.map_err(|e| e.message)));
    }

    pub fn set_registration(
        &self,
        mode: Registration,
        done: impl FnOnce(Result<Registration, String>) + 'static,
    ) {
        let body = RequestBody::SetRegistration(SetRegistrationRequest { mode });
        self.ask::<RegistrationState>(body, |answer| done(answer.map(|s| s.registration)));
    }

    pub fn create_invite(
        &self,
        request: CreateInviteRequest,
        done: impl FnOnce(Result<NewInvite, String>) + 'static,
    ) {
        self.ask(RequestBody::CreateInvite(request), done);
    }

    pub fn load_invites(&self, done: impl FnOnce(Result<InviteList, String>) + 'static) {
        self.ask(RequestBody::GetInvites(Empty {}), done);
    }

    pub fn ban(
        &self,
        user_id: String,
        banned: bool,
        done: impl FnOnce(Result<(), String>) + 'static,
    ) {
        let body = RequestBody::Ban(BanRequest { user_id, banned });
        self.send_plain(body, Box::new(done));
    }

    pub fn load_bans(&self, done: impl FnOnce(Result<BanList, String>) + 'static) {
        self.ask(RequestBody::GetBans(Empty {}), done);
    }

    pub fn revoke_invite(&self, id: String, done: impl FnOnce(Result<(), String>) + 'static) {
        let body = RequestBody::RevokeInvite(RevokeInviteRequest { id });
        self.send_plain(body, Box::new(done));
    }
}
