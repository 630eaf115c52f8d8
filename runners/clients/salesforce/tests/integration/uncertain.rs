//! Both readings of what the reference leaves uncertain, where the client depends on it
//! (`docs/uncertain.md`). The emulator answers one reading; a scripted server answers the
//! other.

use std::time::Duration;

use crmmap_salesforce::{AuthFlow, Config, Error, SalesforceClient, Secret};
use serde_json::json;
use time::macros::datetime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::common::*;

/// A server that issues a token, then answers every data request 404 with `code`.
async fn missing_ids_answered_with(code: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let instance = base.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let instance = instance.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // The head and a small body arrive well within a few reads.
                while !String::from_utf8_lossy(&request).contains("\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(buf.get(..n).unwrap_or_default()),
                    }
                }
                let head = String::from_utf8_lossy(&request).to_string();
                let (status, body) = if head.contains("/services/oauth2/token") {
                    (
                        "200 OK",
                        json!({"access_token": "t", "instance_url": instance, "token_type": "Bearer"}),
                    )
                } else {
                    (
                        "404 Not Found",
                        json!([{"errorCode": code, "message": "invalid cross reference id", "fields": []}]),
                    )
                };
                let body = body.to_string();
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    base
}

/// PATCH and DELETE of a well-formed id that does not exist: the reference has GET's
/// `404 NOT_FOUND` and, from a third-party emulator, `404 INVALID_CROSS_REFERENCE_KEY` for
/// PATCH and DELETE (§4, uncertain). Both read as [`Error::NotFound`]: the status decides.
#[tokio::test]
async fn a_missing_id_is_not_found_whichever_code_a_404_carries() {
    let id = "003000000000001AAA";
    for code in ["NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY"] {
        let base = missing_ids_answered_with(code).await;
        let mut config = Config::new(
            base,
            AuthFlow::ClientCredentials {
                client_id: "id".into(),
                client_secret: Secret::new("secret"),
            },
        );
        config.retry = fast_retry();
        config.request_timeout = Duration::from_secs(10);
        let client = SalesforceClient::new(config).expect("client");
        let fields = json!({"LastName": "Lovelace"});
        let update = client.update("Contact", id, &fields, None).await;
        assert!(
            matches!(update, Err(Error::NotFound { .. })),
            "{code}: {update:?}"
        );
        let conditional = client
            .update_if_unmodified("Contact", id, &fields, datetime!(2026-01-01 0:00 UTC))
            .await;
        assert!(
            matches!(conditional, Err(Error::NotFound { .. })),
            "{code}: {conditional:?}"
        );
        let delete = client.delete("Contact", id).await;
        assert!(
            matches!(delete, Err(Error::NotFound { .. })),
            "{code}: {delete:?}"
        );
    }
}

/// The emulator's reading (`NOT_FOUND`), over the same calls.
#[tokio::test]
async fn the_emulator_answers_a_missing_id_not_found() {
    let emu = default_emulator().await;
    let client = client(&emu);
    let id = "003000000000001AAA";
    let fields = json!({"LastName": "Lovelace"});
    let update = client.update("Contact", id, &fields, None).await;
    assert!(matches!(update, Err(Error::NotFound { .. })), "{update:?}");
    let delete = client.delete("Contact", id).await;
    assert!(matches!(delete, Err(Error::NotFound { .. })), "{delete:?}");
}
