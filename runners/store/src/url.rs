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

/// The environment variable from which PostgreSQL clients (sqlx among them) take the
/// `sslmode` of a URL that names none.
pub const PGSSLMODE_ENV: &str = "PGSSLMODE";

/// The `sslmode`s that never fall back to a plain-text connection.
const TLS_REQUIRED: [&str; 3] = ["require", "verify-ca", "verify-full"];

/// A start-up warning for a PostgreSQL URL that reaches another machine without requiring
/// TLS, or `None`.
///
/// Without `sslmode=require`, `verify-ca` or `verify-full` (in the URL, else in
/// `PGSSLMODE`, which the caller passes so this stays a pure function), the connection may
/// be plain text: `prefer` (the default) and `allow` fall back to it, `disable` never
/// encrypts, so the store's credentials and synced data could cross the network readable.
/// Loopback hosts (`localhost`, `127.0.0.0/8`, `::1`), Unix sockets, a URL without a host
/// (the client's local default) and SQLite are not warned about. The `host` and `hostaddr`
/// query parameters win over the URL's host, as they do when connecting. The warning names
/// the host and the mode, never the URL (which may hold a password); a URL that cannot be
/// parsed gets none here (connecting reports it).
pub fn tls_warning(url: &str, pgsslmode_env: Option<&str>) -> Option<String> {
    if Backend::from_url(url) != Some(Backend::Postgres) {
        return None;
    }
    let parsed = url::Url::parse(url.trim()).ok()?;
    let mut host = parsed.host_str().map(str::to_owned);
    let mut mode = None;
    for (key, value) in parsed.query_pairs() {
        match &*key {
            "sslmode" | "ssl-mode" => mode = Some(value.to_ascii_lowercase()),
            "host" | "hostaddr" => host = Some(value.into_owned()),
            _ => {}
        }
    }
    let host = host.filter(|h| !h.is_empty())?;
    if is_local_host(&host) {
        return None;
    }
    let mode = mode
        .or_else(|| pgsslmode_env.map(|m| m.trim().to_ascii_lowercase()))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "prefer".to_owned());
    if TLS_REQUIRED.contains(&mode.as_str()) {
        return None;
    }
    Some(format!(
        "the store's PostgreSQL server `{host}` is not on this machine and its URL does not \
         require TLS (sslmode={mode}): the connection may be unencrypted; add \
         `sslmode=require` (or `verify-full` with the server's CA in `sslrootcert`) to the URL"
    ))
}

/// Loopback names and addresses, and Unix socket directories (a host that is a path,
/// percent-encoded in the URL's host part).
fn is_local_host(host: &str) -> bool {
    let lower = host.to_ascii_lowercase();
    if lower.starts_with('/') || lower.starts_with("%2f") || lower == "localhost" {
        return true;
    }
    let bare = lower
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(&lower);
    bare.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.to_canonical().is_loopback())
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
    fn loopback_and_socket_urls_get_no_tls_warning() {
        for url in [
            "postgres://crm:pw@127.0.0.1:5432/crmmap",
            "postgres://crm@127.1.2.3/crmmap?sslmode=disable",
            "postgresql://crm@localhost/crmmap",
            "postgres://crm@LOCALHOST:5433/crmmap?sslmode=prefer",
            "postgres://crm@[::1]:5432/crmmap",
            "postgres://crm@[::ffff:127.0.0.1]/crmmap",
            "postgres://crm@%2Fvar%2Frun%2Fpostgresql/crmmap",
            "postgres:///crmmap?host=/var/run/postgresql",
            "postgres://db.example.com/crmmap?host=/tmp",
            "postgres:///crmmap",
            "sqlite://crmmap.db",
            "sqlite::memory:",
        ] {
            assert_eq!(tls_warning(url, None), None, "{url}");
        }
    }

    #[test]
    fn remote_urls_without_required_tls_are_warned_about() {
        for (url, mode) in [
            ("postgres://crm:s3cr3t@db.example.com:5432/crmmap", "prefer"),
            (
                "postgres://crm@db.example.com/crmmap?sslmode=prefer",
                "prefer",
            ),
            (
                "postgres://crm@db.example.com/crmmap?sslmode=disable",
                "disable",
            ),
            (
                "postgres://crm@db.example.com/crmmap?ssl-mode=Allow",
                "allow",
            ),
            ("postgres://crm@10.0.0.5/crmmap?password=hunter2", "prefer"),
            ("postgres://crm@[2001:db8::1]/crmmap", "prefer"),
            (
                "postgres://crm@localhost/crmmap?host=db.example.com",
                "prefer",
            ),
        ] {
            let warning = tls_warning(url, None).unwrap_or_else(|| panic!("{url}"));
            assert!(warning.contains(&format!("sslmode={mode}")), "{warning}");
            assert!(warning.contains("sslmode=require"), "{warning}");
            assert!(
                !warning.contains("s3cr3t") && !warning.contains("hunter2"),
                "{warning}"
            );
        }
        let warning = tls_warning("postgres://crm:s3cr3t@db.example.com/crmmap", None).unwrap();
        assert!(warning.contains("`db.example.com`"), "{warning}");
    }

    #[test]
    fn required_tls_gets_no_warning_from_the_url_or_pgsslmode() {
        for mode in ["require", "verify-ca", "verify-full", "VERIFY-FULL"] {
            let url = format!("postgres://crm:pw@db.example.com/crmmap?sslmode={mode}");
            assert_eq!(tls_warning(&url, None), None, "{url}");
            let url = "postgres://crm:pw@db.example.com/crmmap";
            assert_eq!(tls_warning(url, Some(mode)), None, "PGSSLMODE={mode}");
        }
        // The URL's mode wins over the environment's, as when connecting.
        assert!(
            tls_warning(
                "postgres://crm@db.example.com/crmmap?sslmode=disable",
                Some("require")
            )
            .is_some()
        );
        assert!(tls_warning("postgres://crm@db.example.com/crmmap", Some("prefer")).is_some());
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
