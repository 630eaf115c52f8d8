//! Who may post events: monday's signed JWT, or a secret token in the webhook URL path.

use std::fmt;

use serde::Deserialize;

/// A secret that never shows in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> SecretString {
        SecretString(s.into())
    }

    /// The secret itself (for signing or comparing only).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

/// How requests are authenticated.
#[derive(Clone, Debug, Default)]
pub struct AuthConfig {
    /// monday's signing secret (`MONDAY_SIGNING_SECRET`): a JWT in `Authorization` is verified
    /// against it.
    pub signing_secret: Option<SecretString>,
    /// Refuse requests without a valid signature, even with a valid path token.
    pub require_signature: bool,
    /// The secret path token (`POST /webhooks/monday/{token}`).
    pub path_token: Option<SecretString>,
}

/// Why a request was refused (answered 401; the body is never logged).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A JWT was sent and did not verify.
    #[error("invalid signature: {0}")]
    BadSignature(String),
    /// A signature is required and none was sent.
    #[error("missing signature")]
    MissingSignature,
    /// No signature and no (or a wrong) path token.
    #[error("missing or wrong webhook token")]
    BadToken,
}

/// UNCERTAIN (`monday-api.md` §5.3): monday documents the bare JWT in `Authorization`; some
/// integrations send `Bearer <jwt>`. Both are accepted; this is the one place that decides.
fn jwt_of(header: &str) -> &str {
    let h = header.trim();
    h.strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))
        .unwrap_or(h)
        .trim()
}

/// UNCERTAIN (`monday-api.md` §5.3): the board-webhook JWT is assumed HS256 with `exp`; its
/// `aud` (the endpoint URL) is not checked, because behind API Gateway the URL the function
/// sees differs from the one registered (stage, custom domain).
fn validation() -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.validate_aud = false;
    v.required_spec_claims = ["exp".to_owned()].into_iter().collect();
    v.leeway = 60;
    v
}

#[derive(Deserialize)]
struct Claims {}

/// Compares without an early exit, so the time taken does not tell how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl AuthConfig {
    /// Whether some authentication is configured at all (a runner must refuse to start
    /// without).
    pub fn is_configured(&self) -> bool {
        self.signing_secret.is_some() || self.path_token.is_some()
    }

    /// Checks a request: its `Authorization` header and the token from its path.
    pub fn check(
        &self,
        authorization: Option<&str>,
        path_token: Option<&str>,
    ) -> Result<(), AuthError> {
        if let (Some(secret), Some(header)) = (&self.signing_secret, authorization) {
            let key = jsonwebtoken::DecodingKey::from_secret(secret.expose().as_bytes());
            return jsonwebtoken::decode::<Claims>(jwt_of(header), &key, &validation())
                .map(|_| ())
                .map_err(|e| AuthError::BadSignature(format!("{:?}", e.kind()).to_lowercase()));
        }
        if self.require_signature {
            return Err(AuthError::MissingSignature);
        }
        match (&self.path_token, path_token) {
            (Some(want), Some(got))
                if constant_time_eq(want.expose().as_bytes(), got.as_bytes()) =>
            {
                Ok(())
            }
            _ => Err(AuthError::BadToken),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(secret: &str, exp_offset: i64) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &serde_json::json!({"accountId": 1, "userId": 2, "aud": "https://x", "iat": now, "exp": now + exp_offset}),
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn config(secret: Option<&str>, token: Option<&str>, require: bool) -> AuthConfig {
        AuthConfig {
            signing_secret: secret.map(SecretString::new),
            require_signature: require,
            path_token: token.map(SecretString::new),
        }
    }

    #[test]
    fn signed_requests_verify_and_forged_ones_do_not() {
        let c = config(Some("s3cret"), None, true);
        assert_eq!(c.check(Some(&jwt("s3cret", 300)), None), Ok(()));
        assert_eq!(
            c.check(Some(&format!("Bearer {}", jwt("s3cret", 300))), None),
            Ok(())
        );
        assert!(matches!(
            c.check(Some(&jwt("other", 300)), None),
            Err(AuthError::BadSignature(_))
        ));
        assert!(matches!(
            c.check(Some(&jwt("s3cret", -600)), None),
            Err(AuthError::BadSignature(_))
        ));
        assert!(matches!(
            c.check(Some("garbage"), None),
            Err(AuthError::BadSignature(_))
        ));
        assert_eq!(c.check(None, None), Err(AuthError::MissingSignature));
    }

    #[test]
    fn path_tokens_must_match_exactly() {
        let c = config(None, Some("tok-123"), false);
        assert_eq!(c.check(None, Some("tok-123")), Ok(()));
        assert_eq!(c.check(None, Some("tok-124")), Err(AuthError::BadToken));
        assert_eq!(c.check(None, Some("tok-12")), Err(AuthError::BadToken));
        assert_eq!(c.check(None, None), Err(AuthError::BadToken));
        // With a signing secret, an unsigned request still passes on the token.
        let c = config(Some("s"), Some("tok-123"), false);
        assert_eq!(c.check(None, Some("tok-123")), Ok(()));
        // Unless a signature is required.
        let c = config(Some("s"), Some("tok-123"), true);
        assert_eq!(
            c.check(None, Some("tok-123")),
            Err(AuthError::MissingSignature)
        );
    }

    #[test]
    fn secrets_never_print() {
        let c = config(Some("s3cret-sign"), Some("tok-path"), false);
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3cret-sign") && !shown.contains("tok-path"),
            "{shown}"
        );
        let e = c.check(Some(&jwt("wrong", 300)), None).unwrap_err();
        assert!(!e.to_string().contains("s3cret"));
    }
}
