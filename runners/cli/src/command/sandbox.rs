//! `crmmap sandbox`: both emulators with sample data on loopback until Ctrl-C, and the
//! Salesforce emulator's Pub/Sub endpoint (change events over gRPC).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use clap::Args;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap sandbox`.
#[derive(Args)]
pub struct SandboxArgs {
    /// Address of the Salesforce emulator (loopback only); monday listens on the next port,
    /// the Pub/Sub endpoint on the one after. Port 0 picks free ports.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Extra generated records per object (Salesforce) and items per board (monday).
    #[arg(long, default_value_t = 0)]
    pub generated: usize,
}

/// Runs `crmmap sandbox`.
pub fn sandbox(args: &SandboxArgs) -> CrmmapExit {
    if let Err(e) = check_listen(args.listen) {
        return super::fail(&e);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return super::fail(&format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async {
        let (sf_port, md_port) = ports(args.listen);
        let pubsub_port = match sf_port {
            0 => 0,
            p => p + 2,
        };
        let sf_options = crmmap_emu_salesforce::EmulatorOptions {
            port: sf_port,
            generated_records_per_object: args.generated,
            ..Default::default()
        };
        let md_options = crmmap_emu_monday::EmulatorOptions {
            port: md_port,
            ..Default::default()
        };
        let token = md_options.token.expose().to_owned();
        let salesforce = match crmmap_emu_salesforce::start(sf_options).await {
            Ok(s) => s,
            Err(e) => {
                return super::fail(&format!(
                    "cannot start the salesforce emulator on port {sf_port}: {e}"
                ));
            }
        };
        let monday = match crmmap_emu_monday::start(md_options).await {
            Ok(m) => m,
            Err(e) => {
                return super::fail(&format!(
                    "cannot start the monday emulator on port {md_port}: {e}"
                ));
            }
        };
        let pubsub_options = crmmap_emu_salesforce::pubsub::PubSubOptions {
            port: pubsub_port,
            ..Default::default()
        };
        let pubsub = match salesforce.state().start_pubsub(pubsub_options).await {
            Ok(p) => p,
            Err(e) => {
                return super::fail(&format!(
                    "cannot start the pub/sub endpoint on port {pubsub_port}: {e}"
                ));
            }
        };
        print!(
            "{}",
            instructions(
                &salesforce.base_url(),
                &monday.base_url(),
                &pubsub.endpoint(),
                &token
            )
        );
        super::shutdown::requested().await;
        eprintln!("stopping the emulators");
        pubsub.shutdown().await;
        salesforce.shutdown().await;
        monday.shutdown().await;
        CrmmapExit::Clean
    })
}

/// The emulators are for local use: refuse anything but loopback.
fn check_listen(addr: SocketAddr) -> Result<(), String> {
    if addr.ip() != IpAddr::V4(Ipv4Addr::LOCALHOST) {
        return Err(format!(
            "the sandbox listens on 127.0.0.1 only, not {}",
            addr.ip()
        ));
    }
    if addr.port() >= u16::MAX - 1 {
        return Err(format!(
            "port {} leaves no ports for the monday emulator and the pub/sub endpoint",
            addr.port()
        ));
    }
    Ok(())
}

/// Salesforce on the given port, monday on the next one (both free ports for 0).
fn ports(addr: SocketAddr) -> (u16, u16) {
    match addr.port() {
        0 => (0, 0),
        p => (p, p + 1),
    }
}

/// What to print: URLs, accepted credentials, a `crmmap.toml` and the environment.
fn instructions(salesforce: &str, monday: &str, pubsub: &str, monday_token: &str) -> String {
    let c = crmmap_emu_salesforce::Credentials::default();
    format!(
        "\
Salesforce emulator: {salesforce}  (login URL and instance URL)
monday emulator:     {monday}
Pub/Sub endpoint:    {pubsub}  (change events over gRPC, for crmmap serve)
Sample data: 4 sample objects (Lead, Account, Contact, Opportunity) and their boards.

Credentials the emulators accept:
  salesforce password flow: client_id {client_id}, client_secret {client_secret},
                            username {username}, password {password}
  monday API token:         {monday_token}

crmmap.toml:
  mappings = \"mappings\"

  [store]
  url = \"sqlite://crmmap-sandbox.db\"

  [salesforce]
  login_url = \"{salesforce}\"
  auth = \"password\"
  change_events = \"pubsub\"
  pubsub_endpoint = \"{pubsub}\"

  [monday]
  api_url = \"{monday}\"

Environment:
  export SF_CLIENT_ID={client_id}
  export SF_CLIENT_SECRET={client_secret}
  export SF_USERNAME={username}
  export SF_PASSWORD={password}
  export MONDAY_TOKEN={monday_token}

Then: crmmap migrate --dry-run; crmmap migrate; crmmap log
      crmmap serve (applies Salesforce edits to monday as their change events arrive)
Running until Ctrl-C.
",
        client_id = c.client_id,
        client_secret = c.client_secret,
        username = c.username,
        password = c.password,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listens_on_loopback_only() {
        assert!(check_listen("127.0.0.1:0".parse().unwrap()).is_ok());
        assert_eq!(
            check_listen("0.0.0.0:8080".parse().unwrap()).unwrap_err(),
            "the sandbox listens on 127.0.0.1 only, not 0.0.0.0"
        );
        assert_eq!(ports("127.0.0.1:7000".parse().unwrap()), (7000, 7001));
        assert_eq!(ports("127.0.0.1:0".parse().unwrap()), (0, 0));
    }

    #[test]
    fn printed_configuration_parses_and_points_at_the_emulators() {
        let text = instructions(
            "http://127.0.0.1:7000",
            "http://127.0.0.1:7001/v2",
            "http://127.0.0.1:7002",
            "tok",
        );
        let toml: String = text
            .split("crmmap.toml:\n")
            .nth(1)
            .unwrap()
            .split("\nEnvironment:")
            .next()
            .unwrap()
            .lines()
            .map(|l| l.strip_prefix("  ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let env = |k: &str| match k {
            "SF_CLIENT_ID" | "SF_CLIENT_SECRET" | "SF_USERNAME" | "SF_PASSWORD" => {
                Some("x".to_owned())
            }
            "MONDAY_TOKEN" => Some("tok".to_owned()),
            _ => None,
        };
        let settings = crmmap_sync::Settings::parse(
            &toml,
            std::path::Path::new("crmmap.toml"),
            std::path::Path::new("."),
            env,
        )
        .expect("the printed crmmap.toml is valid");
        assert_eq!(settings.store_url, "sqlite://crmmap-sandbox.db");
        let sf = settings.salesforce(env).unwrap();
        assert_eq!(sf.login_url, "http://127.0.0.1:7000");
        let md = settings.monday(env).unwrap();
        assert_eq!(md.api_url.as_str(), "http://127.0.0.1:7001/v2");
        let subscriber =
            crmmap_webhook::salesforce::subscriber::SubscriberOptions::from_settings(&settings)
                .expect("the printed crmmap.toml subscribes");
        assert_eq!(subscriber.endpoint, "http://127.0.0.1:7002");
    }
}
