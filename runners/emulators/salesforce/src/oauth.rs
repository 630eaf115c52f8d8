//! `POST /services/oauth2/token`.

#![expect(
    clippy::result_large_err,
    reason = "handlers return axum Responses as early errors; one per request, never stored"
)]

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::Deserialize;
use serde_json::json;

use crate::SalesforceEmulator;

/// The emulated org's 15-char id.
pub const ORG_ID: &str = "00D5g000004EmUl";

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
}

pub(crate) fn host_base(headers: &HeaderMap) -> String {
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn random_chars(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

pub(crate) async fn token(
    State(emu): State<SalesforceEmulator>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return oauth_error(
            "invalid_request",
            "request must be application/x-www-form-urlencoded",
        );
    };
    let creds = emu.lock().credentials.clone();
    let base = host_base(&headers);
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let client_ok = |id: &str, secret: &str| -> Result<(), Response> {
        if id != creds.client_id {
            return Err(oauth_error(
                "invalid_client_id",
                "client identifier invalid",
            ));
        }
        if secret != creds.client_secret {
            return Err(oauth_error("invalid_client", "invalid client credentials"));
        }
        Ok(())
    };
    let grant = get("grant_type");
    let scope = match grant {
        "" => return oauth_error("invalid_request", "missing required parameter: grant_type"),
        "password" => {
            if let Err(r) = client_ok(get("client_id"), get("client_secret")) {
                return r;
            }
            if get("username") != creds.username || get("password") != creds.password {
                return oauth_error("invalid_grant", "authentication failure");
            }
            "web api"
        }
        "client_credentials" => {
            if let Err(r) = client_ok(get("client_id"), get("client_secret")) {
                return r;
            }
            "api"
        }
        "refresh_token" => {
            if get("client_id") != creds.client_id {
                return oauth_error("invalid_client_id", "client identifier invalid");
            }
            // The client secret is optional for refresh, but must match when sent.
            if form.contains_key("client_secret") && get("client_secret") != creds.client_secret {
                return oauth_error("invalid_client", "invalid client credentials");
            }
            let valid = creds
                .refresh_token
                .as_deref()
                .is_some_and(|t| t == get("refresh_token"));
            if !valid || emu.refresh_revoked() {
                return oauth_error("invalid_grant", "expired access/refresh token");
            }
            "refresh_token web api"
        }
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
            let Some(pem) = creds.jwt_public_key_pem.as_deref() else {
                return oauth_error("unsupported_grant_type", "grant type not supported");
            };
            let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) else {
                return oauth_error("invalid_grant", "invalid assertion");
            };
            // Salesforce accepts `https://login.salesforce.com`, `https://test.salesforce.com`
            // or an Experience Cloud site URL, never the My Domain (or this emulator's own URL)
            // the token is requested from; otherwise `invalid_grant` / `audience is invalid`
            // (salesforce-api.md §1.2, §1.4).
            let mut audiences = vec![
                "https://login.salesforce.com".to_string(),
                "https://test.salesforce.com".to_string(),
            ];
            audiences.extend(creds.jwt_audiences.iter().cloned());
            let mut v = Validation::new(Algorithm::RS256);
            v.set_audience(&audiences);
            v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
            // Salesforce tolerates about three minutes of clock skew.
            v.leeway = 180;
            let claims = match jsonwebtoken::decode::<Claims>(get("assertion"), &key, &v) {
                Ok(data) => data.claims,
                Err(e) => {
                    return match e.kind() {
                        ErrorKind::ExpiredSignature => {
                            oauth_error("invalid_grant", "expired authorization code")
                        }
                        ErrorKind::InvalidAudience => {
                            oauth_error("invalid_grant", "audience is invalid")
                        }
                        _ => oauth_error("invalid_grant", "invalid assertion"),
                    };
                }
            };
            if claims.iss != creds.client_id {
                return oauth_error("invalid_client_id", "client identifier invalid");
            }
            if claims.sub != creds.username {
                return oauth_error("invalid_grant", "user hasn't approved this consumer");
            }
            "api"
        }
        _ => return oauth_error("unsupported_grant_type", "grant type not supported"),
    };
    let access_token = format!("{ORG_ID}!AQ4AQ{}", random_chars(96));
    emu.issue_token(access_token.clone());
    let user = emu.lock().store.user_id.clone();
    let issued_at =
        (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).to_string();
    // The real signature is an HMAC of id + issued_at keyed with the consumer secret
    // (uncertain per the reference); clients must treat it as opaque, so it is random here.
    let signature = format!("{}=", random_chars(43));
    axum::Json(json!({
        "access_token": access_token,
        "signature": signature,
        "scope": scope,
        "instance_url": base,
        "id": format!("{base}/id/{ORG_ID}/{}", &user[..15]),
        "token_type": "Bearer",
        "issued_at": issued_at,
    }))
    .into_response()
}
