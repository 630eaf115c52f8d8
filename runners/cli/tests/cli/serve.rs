//! `crmmap serve`: the webhook runner as a process, reached over TCP.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::root;

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_health_challenge_and_refuses_forged_requests() {
    let sf = crmmap_emu_salesforce::start(crmmap_emu_salesforce::EmulatorOptions::default())
        .await
        .unwrap();
    let monday = crmmap_emu_monday::start(crmmap_emu_monday::EmulatorOptions::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("crmmap.toml");
    std::fs::write(
        &config,
        format!(
            "mappings = \"{}\"\n[store]\nurl = \"sqlite://{}\"\n[salesforce]\nlogin_url = \"{}\"\nauth = \"client_credentials\"\n[monday]\napi_url = \"{}\"\n",
            root().join("mappings").display(),
            dir.path().join("state.db").display(),
            sf.base_url(),
            monday.base_url()
        ),
    )
    .unwrap();
    let creds = crmmap_emu_salesforce::Credentials::default();
    let token = "a-secret-path-token-for-tests";
    let mut child = Command::new(env!("CARGO_BIN_EXE_crmmap"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--retry-every",
            "0",
            "--config",
        ])
        .arg(&config)
        .env("SF_CLIENT_ID", creds.client_id)
        .env("SF_CLIENT_SECRET", creds.client_secret)
        .env("MONDAY_TOKEN", "emulator-token")
        .env("CRMMAP_WEBHOOK_TOKEN", token)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);
    // The server announces its address on stderr once it listens.
    let addr = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        loop {
            let line = lines
                .next()
                .expect("the server exited before listening")
                .unwrap();
            if let Some(rest) = line.split("listening on http://").nth(1) {
                // Keep draining stderr so the server never blocks on a full pipe.
                std::thread::spawn(move || for _ in lines {});
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
    })
    .await
    .unwrap();
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
