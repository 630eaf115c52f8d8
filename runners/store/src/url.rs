//! Store URLs: which backend, the default, and redaction for display.

/// The default store: an SQLite file in the working directory, created on first use.
pub const DEFAULT_URL: &str = "sqlite://crmmap.db";

/// The environment variable that overrides the configured store URL.
pub const DATABASE_URL_ENV: &str = "DATABASE_URL";

/// The backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: `sqlite://PATH` or `sqlite::memory:`.
    Sqlite,
    /// PostgreSQL: `postgres://...` or `postgresql://...`.
    Postgres,
}

impl Backend {
    /// The backend a URL selects, or `None` when the scheme is neither.
    pub fn from_url(url: &str) -> Option<Backend> {
        let lower = url.trim_start().to_ascii_lowercase();
        if lower.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// The URL the store should use: a non-empty `DATABASE_URL` wins over the configured
/// `[store] url`, which wins over [`DEFAULT_URL`].
///
/// The caller passes the environment value (`std::env::var(DATABASE_URL_ENV).ok()`) so
/// this stays a pure function.
pub fn effective_url(configured: Option<&str>, database_url_env: Option<&str>) -> String {
    let pick = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    pick(database_url_env)
        .or_else(|| pick(configured))
        .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

/// The URL with any password replaced by `***`, fit for logs, errors and `Debug`.
///
/// Covers the user-info password (`postgres://user:secret@host/db`) and the
/// `password` / `sslpassword` query parameters. A URL that cannot be parsed is
/// reduced to its scheme so that nothing unparsed is ever shown.
pub fn redact_url(url: &str) -> String {
    const MASK: &str = "***";
    if Backend::from_url(url) == Some(Backend::Sqlite) {
        // SQLite URLs carry a path, not credentials; the query may still hold options only.
        return url.to_owned();
    }
    let Ok(mut parsed) = url::Url::parse(url) else {
        let scheme = url.split(':').next().unwrap_or_default();
        return format!("{scheme}://{MASK}");
    };
    if parsed.password().is_some() {
        // INVARIANT: a URL with a password has a host, so set_password cannot fail.
        let _ = parsed.set_password(Some(MASK));
    }
    let has_secret_param = parsed.query_pairs().any(|(k, _)| is_secret_param(&k));
    if has_secret_param {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) {
                    MASK.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "password"
        || name == "sslpassword"
        || name.ends_with("token")
        || name.ends_with("secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_user_info_password() {
        let r = redact_url("postgres://crm:s3cr3t@db.example.com:5432/crmmap");
        assert_eq!(r, "postgres://crm:***@db.example.com:5432/crmmap");
    }

    #[test]
    fn redacts_password_query_parameter() {
        let r = redact_url("postgresql://crm@db/crmmap?sslmode=require&password=hunter2");
        assert!(!r.contains("hunter2"), "{r}");
        assert!(r.contains("sslmode=require"), "{r}");
        assert!(
            r.contains("password=***") || r.contains("password=%2A%2A%2A"),
            "{r}"
        );
    }

    #[test]
    fn keeps_urls_without_secrets() {
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
        assert_eq!(redact_url("sqlite://crmmap.db"), "sqlite://crmmap.db");
    }

    #[test]
    fn unparseable_url_shows_only_the_scheme() {
        let r = redact_url("postgres://user:pa ss@[bad/db");
        assert_eq!(r, "postgres://***");
    }

    #[test]
    fn database_url_overrides_config() {
        assert_eq!(
            effective_url(Some("sqlite://a.db"), Some("postgres://x/y")),
            "postgres://x/y"
        );
        assert_eq!(
            effective_url(Some("sqlite://a.db"), Some("  ")),
            "sqlite://a.db"
        );
        assert_eq!(effective_url(None, None), DEFAULT_URL);
    }

    #[test]
    fn backend_from_scheme() {
        assert_eq!(Backend::from_url("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("POSTGRESQL://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mysql://h/db"), None);
    }
}
