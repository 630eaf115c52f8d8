use std::time::Duration;

use crmmap_emu_salesforce::{Credentials, EmulatorOptions, RunningEmulator, start, test_keys};
use crmmap_salesforce::{AuthFlow, Config, RetryPolicy, SalesforceClient, Secret};

pub async fn emulator(opts: EmulatorOptions) -> RunningEmulator {
    start(opts).await.expect("emulator starts")
}

pub async fn default_emulator() -> RunningEmulator {
    emulator(EmulatorOptions::default()).await
}

pub fn creds() -> Credentials {
    Credentials::default()
}

pub fn password_flow() -> AuthFlow {
    let c = creds();
    AuthFlow::Password {
        client_id: c.client_id,
        client_secret: Secret::new(c.client_secret),
        username: c.username,
        password: Secret::new(c.password),
    }
}

pub fn client_credentials_flow() -> AuthFlow {
    let c = creds();
    AuthFlow::ClientCredentials {
        client_id: c.client_id,
        client_secret: Secret::new(c.client_secret),
    }
}

pub fn jwt_flow() -> AuthFlow {
    let c = creds();
    AuthFlow::JwtBearer {
        client_id: c.client_id,
        username: c.username,
        private_key_pem: Secret::new(test_keys::JWT_PRIVATE_KEY_PEM),
        audience: None,
    }
}

pub fn refresh_flow() -> AuthFlow {
    let c = creds();
    AuthFlow::RefreshToken {
        client_id: c.client_id,
        client_secret: Some(Secret::new(c.client_secret)),
        refresh_token: Secret::new(c.refresh_token.unwrap_or_default()),
    }
}

/// Fast retries, so that retry tests run in milliseconds.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
        ..RetryPolicy::default()
    }
}

pub fn config(emu: &RunningEmulator, auth: AuthFlow) -> Config {
    let mut c = Config::new(emu.base_url(), auth);
    c.retry = fast_retry();
    c.request_timeout = Duration::from_secs(10);
    c
}

pub fn client(emu: &RunningEmulator) -> SalesforceClient {
    SalesforceClient::new(config(emu, password_flow())).expect("client")
}

/// A record id for the client's typed parameters (15 or 18 characters, as the emulator and
/// the tests write them).
pub fn rid(id: &str) -> crmmap_salesforce::ids::RecordId {
    crmmap_salesforce::ids::RecordId::parse(id).expect("a salesforce record id")
}
