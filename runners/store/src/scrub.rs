//! Defensive removal of secrets from text that goes into the sync log.
//!
//! Callers pass summaries that contain no secrets; this is a second line of defence
//! against obvious token shapes slipping through (an `Authorization` header copied
//! into a summary, a Salesforce session id in an error body).

use std::sync::LazyLock;

use regex::Regex;

/// Summaries longer than this many characters are cut (the log is not a payload store).
pub const MAX_SUMMARY_CHARS: usize = 4_000;

const REDACTED: &str = "[redacted]";

struct Rule {
    pattern: Regex,
    replacement: &'static str,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |pattern: &str, replacement: &'static str| Rule {
        // INVARIANT: the patterns below are literals covered by the unit tests.
        pattern: Regex::new(pattern).expect("scrub pattern compiles"),
        replacement,
    };
    vec![
        // `Bearer <token>`, `Basic <credentials>`, `OAuth <token>`.
        rule(
            r"(?i)\b(bearer|basic|oauth)\s+[A-Za-z0-9._~+/=!:-]+",
            "$1 [redacted]",
        ),
        // Salesforce session ids / access tokens: org id `00D…` then `!` and the secret.
        rule(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]+", REDACTED),
        // JWTs (monday API tokens, signed webhook headers, JWT bearer assertions).
        rule(
            r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            REDACTED,
        ),
        // Passwords in URLs: scheme://user:password@host.
        rule(
            r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@",
            "${1}[redacted]@",
        ),
        // key=value / "key": "value" for secret-looking keys (JSON, form, headers).
        rule(
            r#"(?i)("?[A-Za-z_-]*(?:token|secret|password|passwd|api[_-]?key|authorization|assertion|sessionid|session_id)"?\s*[:=]\s*)("[^"]*"|[^\s,&;}"]+)"#,
            "${1}\"[redacted]\"",
        ),
    ]
});

/// Returns `text` with obvious secrets replaced by `[redacted]` and cut to
/// [`MAX_SUMMARY_CHARS`] characters.
pub fn scrub_secrets(text: &str) -> String {
    let mut out = text.to_owned();
    for rule in RULES.iter() {
        if rule.pattern.is_match(&out) {
            out = rule
                .pattern
                .replace_all(&out, rule.replacement)
                .into_owned();
        }
    }
    if out.chars().count() > MAX_SUMMARY_CHARS {
        out = out.chars().take(MAX_SUMMARY_CHARS).collect::<String>() + "…(cut)";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_go() {
        let s = scrub_secrets("POST /services/data Authorization: Bearer abc.DEF-123_x");
        assert!(!s.contains("abc.DEF-123_x"), "{s}");
        assert!(s.contains("POST /services/data"), "{s}");
    }

    #[test]
    fn salesforce_session_ids_go() {
        let token = "00D5g000004abcdEAA!ARQAQH7mC0VBqZ_some.secret.part";
        let s = scrub_secrets(&format!("login ok, session {token} issued"));
        assert!(!s.contains("ARQAQH7mC0VBqZ"), "{s}");
        assert!(s.contains("login ok, session"), "{s}");
    }

    #[test]
    fn json_secret_fields_go() {
        let s = scrub_secrets(
            r#"{"access_token":"xyz123","instance_url":"https://x.my.salesforce.com","client_secret": "shh"}"#,
        );
        assert!(!s.contains("xyz123") && !s.contains("shh"), "{s}");
        assert!(s.contains("instance_url"), "{s}");
        assert!(s.contains(r#""access_token":"[redacted]""#), "{s}");
    }

    #[test]
    fn form_and_url_secrets_go() {
        let s = scrub_secrets("grant_type=password&username=a@b.c&password=hunter2&client_id=abc");
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("client_id=abc"), "{s}");
        let s = scrub_secrets("connect postgres://crm:pa55word@db:5432/x failed");
        assert!(!s.contains("pa55word"), "{s}");
        assert!(s.contains("postgres://crm:[redacted]@db:5432/x"), "{s}");
    }

    #[test]
    fn jwts_go() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ0aWQiOjEyMzQ1Njc4OX0.c2lnbmF0dXJlLXBhcnQ";
        let s = scrub_secrets(&format!("monday token {jwt} rejected"));
        assert!(!s.contains(jwt), "{s}");
    }

    #[test]
    fn ordinary_summaries_are_kept() {
        let text = r#"PATCH Lead 00Q5g00000AbCdEFGH {"Status":"Qualified"} -> 204"#;
        assert_eq!(scrub_secrets(text), text);
    }

    #[test]
    fn long_summaries_are_cut() {
        let s = scrub_secrets(&"x".repeat(MAX_SUMMARY_CHARS + 10));
        assert!(s.ends_with("…(cut)"));
        assert_eq!(
            s.chars().count(),
            MAX_SUMMARY_CHARS + "…(cut)".chars().count()
        );
    }
}
