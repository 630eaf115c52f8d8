//! Shared helpers: an emulator per test, a client pointed at it, raw HTTP calls.

use std::time::Duration;

use crmmap_emu_monday::{EmulatorOptions, RunningEmulator, start};
use crmmap_monday::{BoardId, MondayClient, MondayConfig, Secret};
use serde_json::Value;
use url::Url;

pub const TOKEN: &str = "test-token-123";
pub const LEAD: BoardId = BoardId::new(9_378_000_505);
pub const ACCOUNT: BoardId = BoardId::new(9_378_000_326);
pub const CONTACT: BoardId = BoardId::new(9_429_890_440);
pub const OPPORTUNITY: BoardId = BoardId::new(9_378_000_036);

pub fn options() -> EmulatorOptions {
    EmulatorOptions {
        token: Secret::new(TOKEN),
        ..EmulatorOptions::default()
    }
}

pub async fn emulator(options: EmulatorOptions) -> RunningEmulator {
    start(options).await.expect("emulator starts")
}

pub fn config(emulator: &RunningEmulator) -> MondayConfig {
    let mut config = MondayConfig::new(TOKEN)
        .with_api_url(Url::parse(&emulator.base_url()).expect("base url parses"));
    config.retry_base_delay = Duration::from_millis(5);
    config.retry_max_delay = Duration::from_millis(100);
    config
}

pub fn client(emulator: &RunningEmulator) -> MondayClient {
    MondayClient::new(config(emulator)).expect("client builds")
}

pub async fn raw(
    emulator: &RunningEmulator,
    token: Option<&str>,
    body: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new()
        .post(emulator.base_url())
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.header("Authorization", token);
    }
    let response = request.send().await.expect("request is sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

pub fn values(pairs: &[(&str, Value)]) -> serde_json::Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}
