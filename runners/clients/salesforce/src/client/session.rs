//! The client's OAuth session as other Salesforce APIs need it: the Pub/Sub API authenticates
//! each call with the same access token, instance URL and org id (`accesstoken`,
//! `instanceurl`, `tenantid`; realtime-and-limits.md §3).

use std::fmt;
use std::sync::Arc;

use crmmap_secret::Secret;

use super::SalesforceClient;
use crate::error::Result;

/// The current access token, its instance and its org.
#[derive(Clone)]
pub struct Session {
    /// The access token (never printed: [`Secret`]).
    pub access_token: Secret,
    /// The instance URL, without a trailing `/`.
    pub instance_url: String,
    /// The org id (18 characters) from the token's identity URL, when the token response
    /// named one.
    pub org_id: Option<String>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("access_token", &self.access_token)
            .field("instance_url", &self.instance_url)
            .field("org_id", &self.org_id)
            .finish()
    }
}

fn session_of(token: &crate::auth::Token) -> Session {
    Session {
        access_token: token.access_token.clone(),
        instance_url: token.instance_url.clone(),
        org_id: token.org_id.clone(),
    }
}

impl SalesforceClient {
    /// The session of the cached token (a token is requested when there is none).
    pub async fn session(&self) -> Result<Session> {
        let token = self.inner.auth.token().await?;
        Ok(session_of(&token))
    }

    /// A new session, after another API refused the current token: the token is requested
    /// again (once, however many callers ask at the same time) and shared with REST calls.
    pub async fn renew_session(&self) -> Result<Session> {
        let current: Arc<crate::auth::Token> = self.inner.auth.token().await?;
        let renewed = self.inner.auth.refresh(&current).await?;
        Ok(session_of(&renewed))
    }
}
