use crmmap_emu_salesforce::{EndpointKind, test_keys};
use crmmap_salesforce::{AuthFlow, Error, SalesforceClient, Secret};
use futures::future::join_all;

use crate::common::rid;
use crate::common::*;

async fn assert_flow_works(auth: AuthFlow) {
    let emu = default_emulator().await;
    let client = SalesforceClient::new(config(&emu, auth)).unwrap();
    let limits = client
        .limits()
        .await
        .expect("a data call works with the token");
    assert!(limits.contains_key("DailyApiRequests"));
    assert_eq!(emu.counters().get(EndpointKind::Token), 1);
    assert_eq!(client.instance_url().await.unwrap(), emu.base_url());
    // The token names its user (15 characters in the identity URL): the same id, in 18
    // characters, that Salesforce puts in `CreatedById` of what the client creates.
    let me = client
        .user_id()
        .await
        .unwrap()
        .expect("the token names its user");
    let id = client
        .create(
            "Lead",
            &serde_json::json!({"LastName": "Who", "Company": "Me"}),
        )
        .await
        .unwrap();
    let lead: serde_json::Map<String, serde_json::Value> = client
        .get("Lead", &rid(&id), Some(&["CreatedById"]))
        .await
        .unwrap();
    assert_eq!(lead["CreatedById"], serde_json::json!(me));
}

async fn assert_flow_refused(auth: AuthFlow, error: &str, description: &str) {
    let emu = default_emulator().await;
    let client = SalesforceClient::new(config(&emu, auth)).unwrap();
    match client.limits().await {
        Err(Error::Auth {
            status,
            error: e,
            description: d,
            ..
        }) => {
            assert_eq!(status, 400);
            assert_eq!(e, error);
            assert_eq!(d, description);
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
    assert_eq!(emu.counters().api_calls, 0);
}

#[tokio::test]
async fn password_flow_works() {
    assert_flow_works(password_flow()).await;
}

#[tokio::test]
async fn client_credentials_flow_works() {
    assert_flow_works(client_credentials_flow()).await;
}

#[tokio::test]
async fn jwt_bearer_flow_works() {
    assert_flow_works(jwt_flow()).await;
}

#[tokio::test]
async fn refresh_token_flow_works() {
    assert_flow_works(refresh_flow()).await;
}

#[tokio::test]
async fn password_flow_invalid_grant() {
    let AuthFlow::Password {
        client_id,
        client_secret,
        username,
        ..
    } = password_flow()
    else {
        unreachable!()
    };
    let auth = AuthFlow::Password {
        client_id,
        client_secret,
        username,
        password: Secret::new("wrong"),
    };
    assert_flow_refused(auth, "invalid_grant", "authentication failure").await;
}

#[tokio::test]
async fn client_credentials_bad_secret() {
    let auth = AuthFlow::ClientCredentials {
        client_id: creds().client_id,
        client_secret: Secret::new("nope"),
    };
    assert_flow_refused(auth, "invalid_client", "invalid client credentials").await;
}

#[tokio::test]
async fn jwt_signed_with_another_key_is_refused() {
    let auth = AuthFlow::JwtBearer {
        client_id: creds().client_id,
        username: creds().username,
        private_key_pem: Secret::new(test_keys::OTHER_PRIVATE_KEY_PEM),
        audience: None,
    };
    assert_flow_refused(auth, "invalid_grant", "invalid assertion").await;
}

#[tokio::test]
async fn jwt_wrong_audience_and_unknown_user() {
    let auth = AuthFlow::JwtBearer {
        client_id: creds().client_id,
        username: creds().username,
        private_key_pem: Secret::new(test_keys::JWT_PRIVATE_KEY_PEM),
        audience: Some("https://example.invalid".into()),
    };
    assert_flow_refused(auth, "invalid_grant", "audience is invalid").await;
    let auth = AuthFlow::JwtBearer {
        client_id: creds().client_id,
        username: "someone-else@example.com".into(),
        private_key_pem: Secret::new(test_keys::JWT_PRIVATE_KEY_PEM),
        audience: None,
    };
    assert_flow_refused(auth, "invalid_grant", "user hasn't approved this consumer").await;
}

#[tokio::test]
async fn refresh_token_invalid_grant() {
    let auth = AuthFlow::RefreshToken {
        client_id: creds().client_id,
        client_secret: None,
        refresh_token: Secret::new("bogus"),
    };
    assert_flow_refused(auth, "invalid_grant", "expired access/refresh token").await;
}

#[tokio::test]
async fn token_is_reused_across_many_and_concurrent_calls() {
    let emu = default_emulator().await;
    let client = client(&emu);
    for _ in 0..5 {
        client.limits().await.unwrap();
    }
    let calls = (0..20).map(|_| {
        let c = client.clone();
        async move { c.describe("Lead").await.map(|_| ()) }
    });
    for r in join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(
        emu.counters().get(EndpointKind::Token),
        1,
        "one token request for 25 calls"
    );
    assert_eq!(client.token_requests(), 1);
}

#[tokio::test]
async fn concurrent_calls_on_a_fresh_client_share_one_token_request() {
    let emu = default_emulator().await;
    let client = client(&emu);
    let calls = (0..16).map(|_| {
        let c = client.clone();
        async move { c.limits().await.map(|_| ()) }
    });
    for r in join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(emu.counters().get(EndpointKind::Token), 1);
}

#[tokio::test]
async fn expired_session_refreshes_once_and_replays() {
    let emu = default_emulator().await;
    let client = client(&emu);
    client.limits().await.unwrap();
    emu.expire_all_tokens();
    let before = emu.counters();
    // Many concurrent calls hit 401 together: still one new token.
    let calls = (0..10).map(|_| {
        let c = client.clone();
        async move { c.describe("Account").await.map(|_| ()) }
    });
    for r in join_all(calls).await {
        r.unwrap();
    }
    let after = emu.counters();
    assert_eq!(
        after.get(EndpointKind::Token) - before.get(EndpointKind::Token),
        1
    );
    assert_eq!(client.token_requests(), 2);
    assert_eq!(
        after.get(EndpointKind::Describe) - before.get(EndpointKind::Describe),
        20,
        "10 refused + 10 replayed"
    );
}

#[tokio::test]
async fn token_lifetime_expiry_mid_run() {
    use std::time::Duration;
    let emu = emulator(crmmap_emu_salesforce::EmulatorOptions {
        token_lifetime: Some(Duration::from_millis(150)),
        ..Default::default()
    })
    .await;
    let client = client(&emu);
    client.limits().await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    client.limits().await.unwrap();
    assert_eq!(emu.counters().get(EndpointKind::Token), 2);
}

#[tokio::test]
async fn a_second_401_after_refresh_is_an_error_not_a_loop() {
    use crmmap_emu_salesforce::Fault;
    let emu = default_emulator().await;
    let client = client(&emu);
    client.limits().await.unwrap();
    emu.inject_faults([Fault::InvalidSession, Fault::InvalidSession]);
    let err = client.limits().await.unwrap_err();
    assert!(
        err.details()
            .iter()
            .any(|d| d.error_code == "INVALID_SESSION_ID"),
        "{err}"
    );
    assert_eq!(emu.counters().get(EndpointKind::Token), 2);
}

#[tokio::test]
async fn no_token_or_secret_in_debug_output() {
    let emu = default_emulator().await;
    for auth in [
        password_flow(),
        client_credentials_flow(),
        jwt_flow(),
        refresh_flow(),
    ] {
        let client = SalesforceClient::new(config(&emu, auth)).unwrap();
        client.authenticate().await.unwrap();
        let dbg = format!("{client:?} {:?}", client.config());
        let c = creds();
        for secret in [
            c.client_secret.as_str(),
            c.password.as_str(),
            c.refresh_token.as_deref().unwrap(),
            "BEGIN PRIVATE KEY",
            "00D5g000004EmUl!",
        ] {
            assert!(!dbg.contains(secret), "{secret:?} leaked in {dbg}");
        }
        assert!(dbg.contains("REDACTED"));
    }
    // Errors don't carry tokens either.
    let client = client(&emu);
    let err = client
        .get::<crmmap_salesforce::Record>("Lead", &rid("00Q000000000000EAA"), None)
        .await
        .unwrap_err();
    assert!(!format!("{err:?} {err}").contains("00D5g000004EmUl!"));
}

#[tokio::test]
async fn token_endpoint_outage_is_retried() {
    // Nothing listens on this port at first; the emulator starts there a moment later.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let mut cfg =
        crmmap_salesforce::Config::new(format!("http://127.0.0.1:{port}"), password_flow());
    cfg.retry = crmmap_salesforce::RetryPolicy {
        max_attempts: 8,
        base_delay: std::time::Duration::from_millis(40),
        max_delay: std::time::Duration::from_millis(80),
        ..Default::default()
    };
    let client = SalesforceClient::new(cfg).unwrap();
    let starter = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        emulator(crmmap_emu_salesforce::EmulatorOptions {
            port,
            ..Default::default()
        })
        .await
    });
    let result = client.authenticate().await;
    let emu = starter.await.unwrap();
    result.expect("token obtained once the endpoint is up");
    assert_eq!(emu.counters().get(EndpointKind::Token), 1);
}

/// A client whose login URL is a My Domain host, served by the emulator.
fn my_domain_client(
    emu: &crmmap_emu_salesforce::RunningEmulator,
    host: &str,
    audience: Option<&str>,
) -> SalesforceClient {
    let auth = AuthFlow::JwtBearer {
        client_id: creds().client_id,
        username: creds().username,
        private_key_pem: Secret::new(test_keys::JWT_PRIVATE_KEY_PEM),
        audience: audience.map(str::to_string),
    };
    let mut cfg = config(emu, auth);
    cfg.login_url = format!("http://{host}:{}", emu.addr().port());
    cfg.resolve = vec![(host.to_string(), emu.addr())];
    SalesforceClient::new(cfg).unwrap()
}

#[tokio::test]
async fn jwt_login_with_a_my_domain_login_url() {
    let emu = default_emulator().await;
    // Production My Domain: aud defaults to https://login.salesforce.com.
    let client = my_domain_client(&emu, "acme.my.salesforce.com", None);
    client
        .limits()
        .await
        .expect("JWT login through a My Domain");
    assert_eq!(
        client.instance_url().await.unwrap(),
        format!("http://acme.my.salesforce.com:{}", emu.addr().port())
    );
    // Sandbox My Domain: aud defaults to https://test.salesforce.com.
    let sandbox = my_domain_client(&emu, "acme--uat.sandbox.my.salesforce.com", None);
    sandbox
        .limits()
        .await
        .expect("JWT login through a sandbox My Domain");
    assert_eq!(
        crmmap_salesforce::jwt_audience_for("https://acme--uat.sandbox.my.salesforce.com"),
        "https://test.salesforce.com"
    );
    // The My Domain itself is not an audience Salesforce accepts.
    let host = "acme.my.salesforce.com";
    let url = format!("http://{host}:{}", emu.addr().port());
    let wrong = my_domain_client(&emu, host, Some(&url));
    let err = wrong.authenticate().await.unwrap_err();
    let Error::Auth {
        error, description, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (error.as_str(), description.as_str()),
        ("invalid_grant", "audience is invalid")
    );
}

#[tokio::test]
async fn jwt_audience_setting_reaches_a_community_url() {
    let community = "https://acme.my.site.com/partners";
    let emu = emulator(crmmap_emu_salesforce::EmulatorOptions {
        credentials: crmmap_emu_salesforce::Credentials {
            jwt_audiences: vec![community.to_string()],
            ..creds()
        },
        ..Default::default()
    })
    .await;
    let client = my_domain_client(&emu, "acme.my.salesforce.com", Some(community));
    client
        .authenticate()
        .await
        .expect("the configured community URL is accepted");
    // Not configured in the org: refused.
    let other = my_domain_client(
        &emu,
        "acme.my.salesforce.com",
        Some("https://other.my.site.com"),
    );
    assert!(matches!(
        other.authenticate().await,
        Err(Error::Auth { .. })
    ));
}
