//! Who may post events: monday's signed JWT, or a secret token in the webhook URL path.

use serde::Deserialize;

/// A secret (the signing secret, the path token, an alert hook): the one secret type of crmmap,
/// held by `secrecy` and redacted in `Debug`.
pub use crmmap_secret::Secret as SecretString;

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
    /// The URL under which monday reaches the runner, without `/webhooks/monday`
    /// ([`PUBLIC_URL_ENV`], read by [`public_url`]). When set, a JWT's `aud` must be this URL
    /// followed by the request's path (see [`AuthConfig::check`]); unset, `aud` is not
    /// checked.
    pub public_url: Option<String>,
}

/// The environment variable naming the runner's public URL (for the JWT's `aud`).
pub const PUBLIC_URL_ENV: &str = "CRMMAP_PUBLIC_URL";

/// The path signed webhooks are posted to; the path-token route appends `/{token}`.
const WEBHOOK_PATH: &str = "/webhooks/monday";

/// Reads [`PUBLIC_URL_ENV`]: an absolute `https://` (or `http://`) URL, such as
/// `https://abc123.execute-api.eu-west-1.amazonaws.com/prod` (an API Gateway stage) or
/// `https://crmmap.example.com`. A trailing `/` and a trailing `/webhooks/monday` are
/// dropped, so the base and the full signed-webhook URL both work.
pub fn public_url(value: &str) -> Result<String, String> {
    let base = value.trim().trim_end_matches('/');
    let base = base.strip_suffix(WEBHOOK_PATH).unwrap_or(base);
    let parsed =
        reqwest::Url::parse(base).map_err(|e| format!("{PUBLIC_URL_ENV} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(format!(
            "{PUBLIC_URL_ENV} must be an https:// URL (the one monday posts to, without \
             {WEBHOOK_PATH})"
        ));
    }
    Ok(base.to_owned())
}

/// Why a request was refused (answered 401; the body is never logged).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A JWT was sent and did not verify.
    #[error("invalid signature: {0}")]
    BadSignature(String),
    /// A JWT verified but was not issued for this endpoint: its `aud` is missing or is not
    /// the public URL of the request.
    #[error("the signed token is not for this endpoint (`aud` differs from {PUBLIC_URL_ENV})")]
    WrongAudience,
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

/// UNCERTAIN (`monday-api.md` §5.3): the board-webhook JWT is signed with the app's Signing
/// Secret, "HS256 assumed": any HMAC algorithm (HS256, HS384, HS512) is accepted, never an
/// asymmetric one or `none` (the secret is shared, so only HMAC can be meant). It must carry
/// `exp`, and
/// its `aud` is assumed to be the endpoint URL exactly as registered with monday ("`aud`
/// (your endpoint URL)"). Behind API Gateway the URL the function sees differs from the
/// registered one (stage, custom domain), so `aud` is checked only against the configured
/// public URL (`audience`: that URL followed by the request's path); without one it is not
/// checked.
fn validation(audience: Option<&str>) -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.algorithms = vec![
        jsonwebtoken::Algorithm::HS256,
        jsonwebtoken::Algorithm::HS384,
        jsonwebtoken::Algorithm::HS512,
    ];
    v.required_spec_claims = ["exp".to_owned()].into_iter().collect();
    match audience {
        Some(aud) => {
            v.set_audience(&[aud]);
            v.required_spec_claims.insert("aud".to_owned());
        }
        None => v.validate_aud = false,
    }
    v.leeway = 60;
    v
}

#[derive(Deserialize)]
struct Claims {}

/// Compares without an early exit, so the time taken does not tell how much matched.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
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
    ///
    /// With a [`AuthConfig::public_url`], a JWT's `aud` must be that URL followed by the
    /// path the request was posted to: `<public url>/webhooks/monday`, or
    /// `<public url>/webhooks/monday/<token>` on the path-token route.
    pub fn check(
        &self,
        authorization: Option<&str>,
        path_token: Option<&str>,
    ) -> Result<(), AuthError> {
        if let (Some(secret), Some(header)) = (&self.signing_secret, authorization) {
            let key = jsonwebtoken::DecodingKey::from_secret(secret.expose().as_bytes());
            let audience = self.public_url.as_ref().map(|base| match path_token {
                Some(token) => format!("{base}{WEBHOOK_PATH}/{token}"),
                None => format!("{base}{WEBHOOK_PATH}"),
            });
            return jsonwebtoken::decode::<Claims>(
                jwt_of(header),
                &key,
                &validation(audience.as_deref()),
            )
            .map(|_| ())
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidAudience => AuthError::WrongAudience,
                jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(c) if c == "aud" => {
                    AuthError::WrongAudience
                }
                kind => AuthError::BadSignature(format!("{kind:?}").to_lowercase()),
            });
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
        jwt_for(secret, exp_offset, Some("https://x"))
    }

    fn jwt_for(secret: &str, exp_offset: i64, aud: Option<&str>) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut claims =
            serde_json::json!({"accountId": 1, "userId": 2, "iat": now, "exp": now + exp_offset});
        if let Some(aud) = aud {
            claims["aud"] = serde_json::json!(aud);
        }
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn config(secret: Option<&str>, token: Option<&str>, require: bool) -> AuthConfig {
        AuthConfig {
            signing_secret: secret.map(SecretString::new),
            require_signature: require,
            path_token: token.map(SecretString::new),
            public_url: None,
        }
    }

    /// The signing algorithm is UNCERTAIN (§5.3, "HS256 assumed"): every HMAC algorithm
    /// verifies with the Signing Secret; a forged one, or one signed with another key, does not.
    #[test]
    fn a_jwt_signed_with_any_hmac_algorithm_verifies() {
        let c = config(Some("s3cret"), None, true);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = serde_json::json!({"accountId": 1, "userId": 2, "iat": now, "exp": now + 300});
        for alg in [
            jsonwebtoken::Algorithm::HS256,
            jsonwebtoken::Algorithm::HS384,
            jsonwebtoken::Algorithm::HS512,
        ] {
            for (secret, verifies) in [("s3cret", true), ("forged", false)] {
                let token = jsonwebtoken::encode(
                    &jsonwebtoken::Header::new(alg),
                    &claims,
                    &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
                )
                .unwrap();
                assert_eq!(
                    c.check(Some(&token), None).is_ok(),
                    verifies,
                    "{alg:?} {secret}"
                );
            }
        }
        // An unsigned token (`alg: none`) is refused.
        let unsigned = format!(
            "{}.{}.",
            base64_url(br#"{"alg":"none","typ":"JWT"}"#),
            base64_url(claims.to_string().as_bytes())
        );
        assert!(matches!(
            c.check(Some(&unsigned), None),
            Err(AuthError::BadSignature(_))
        ));
    }

    fn base64_url(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        out
    }

    #[test]
    fn the_audience_is_checked_when_the_public_url_is_set() {
        const BASE: &str = "https://abc.execute-api.eu-west-1.amazonaws.com/prod";
        let mut c = config(Some("s3cret"), None, true);
        // Unset: any `aud`, or none, as before.
        assert_eq!(c.check(Some(&jwt_for("s3cret", 300, None)), None), Ok(()));
        assert_eq!(c.check(Some(&jwt("s3cret", 300)), None), Ok(()));
        c.public_url = Some(public_url(BASE).unwrap());
        let signed = format!("{BASE}/webhooks/monday");
        assert_eq!(
            c.check(Some(&jwt_for("s3cret", 300, Some(&signed))), None),
            Ok(())
        );
        // On the path-token route the endpoint includes the token.
        let with_token = format!("{BASE}/webhooks/monday/tok-0123456789abcdef");
        assert_eq!(
            c.check(
                Some(&jwt_for("s3cret", 300, Some(&with_token))),
                Some("tok-0123456789abcdef")
            ),
            Ok(())
        );
        for aud in [
            Some("https://x"),
            Some(BASE),
            Some("https://abc.execute-api.eu-west-1.amazonaws.com/dev/webhooks/monday"),
            Some(with_token.as_str()),
            None,
        ] {
            assert_eq!(
                c.check(Some(&jwt_for("s3cret", 300, aud)), None),
                Err(AuthError::WrongAudience),
                "{aud:?}"
            );
        }
        // The signature is still checked first.
        assert!(matches!(
            c.check(Some(&jwt_for("forged", 300, Some(&signed))), None),
            Err(AuthError::BadSignature(_))
        ));
    }

    #[test]
    fn public_urls_are_read_leniently_and_checked() {
        const BASE: &str = "https://crmmap.example.com/prod";
        for value in [
            BASE,
            "https://crmmap.example.com/prod/",
            " https://crmmap.example.com/prod/webhooks/monday ",
            "https://crmmap.example.com/prod/webhooks/monday/",
        ] {
            assert_eq!(public_url(value).as_deref(), Ok(BASE), "{value}");
        }
        for bad in ["crmmap.example.com", "ftp://crmmap.example.com", "https://"] {
            let e = public_url(bad).unwrap_err();
            assert!(e.contains(PUBLIC_URL_ENV), "{e}");
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
