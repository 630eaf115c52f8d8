//! The one secret type of crmmap: a credential or token (an API token, a client secret, a
//! password, a private key, a webhook signing secret or path token) held in a
//! [`secrecy::SecretString`], which zeroes it on drop and redacts it in `Debug` output. It has no
//! `Display`, so it cannot be formatted into a message by accident; [`Secret::expose`] reads
//! it where it is sent or compared, never to log it.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// A secret string. `Debug` prints `Secret([REDACTED])`, as secrecy does; cheap enough to clone
/// with the configuration that holds it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The secret value, for the one place that sends or compares it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // secrecy's `Debug` names the type and redacts the value.
        f.debug_tuple("Secret").field(&self.0).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("tok-very-secret");
        let shown = format!("{secret:?}");
        assert!(!shown.contains("tok-very-secret"), "{shown}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
        assert_eq!(secret.expose(), "tok-very-secret");
        #[derive(Debug)]
        #[expect(dead_code, reason = "only its Debug output is read")]
        struct Config {
            token: Secret,
        }
        let config = format!(
            "{:?}",
            Config {
                token: secret.clone()
            }
        );
        assert!(!config.contains("tok-very-secret"), "{config}");
    }

    #[test]
    fn deserializes_from_a_string() {
        let secret: Secret = serde_json::from_str("\"hunter2\"").unwrap();
        assert_eq!(secret.expose(), "hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
