//! `crmmap serve`: the webhook runner as a process, reached over TCP.

use crmmap_testkit::Emulators;

use crate::busy::serve;

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_health_challenge_and_refuses_forged_requests() {
    let emu = Emulators::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = emu.write_config(dir.path());
    let token = "a-secret-path-token-for-tests";
    // The server announces its address on stderr once it listens.
    let (server, addr) = serve(&config).await;
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");

    let health = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let challenge =
        serde_json::json!({ "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
    let answer = http
        .post(format!("{base}/webhooks/monday/{token}"))
        .json(&challenge)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["challenge"], challenge["challenge"]);

    for path in ["/webhooks/monday/not-the-token", "/webhooks/monday"] {
        let forged = http
            .post(format!("{base}{path}"))
            .json(&challenge)
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 401, "{path}");
    }
    let not_json = http
        .post(format!("{base}/webhooks/monday/{token}"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    // Still serving after bad input.
    assert_eq!(
        http.get(format!("{base}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    drop(server);
}
