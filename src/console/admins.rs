//! Who may sign in to the console: the administrators the configuration
//! names (`[oauth] admins`, the same ones who approve authorization
//! requests).

use crate::auth::AuthError;
use crate::auth::passwords::CredentialList;

pub struct Admins {
    configured: CredentialList,
}

impl Admins {
    pub fn new(configured: CredentialList) -> Self {
        Self { configured }
    }

    /// Whether `password` is `user`'s.
    pub async fn verify(&self, user: &str, password: &str) -> Result<bool, AuthError> {
        self.configured.verify(user, password).await
    }
}
