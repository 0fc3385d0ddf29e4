//! `joshctl` run as a process against a test database and admin APIs served in-process
//! (`admin_auth::testing::serve`).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test file uses a part

pub mod seed;

use std::process::Output;
use std::sync::Arc;

use admin_auth::testing::{self, Served};
use conversation_router::admin::RouterAdminApi;
use testkit::TestDb;
use tonic::service::Routes;

/// The message-body keyring every in-process service here uses.
pub const KEYS: &str = "1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

/// The router's admin API over `db` (as `josh_conversation_router`), on port 0.
pub async fn serve_router(db: &TestDb) -> Served {
    let pool = db.pool_as("josh_conversation_router").await.unwrap();
    let billing = tonic::transport::Endpoint::from_static("http://127.0.0.1:9");
    let ctx = Arc::new(conversation_router::Context {
        keyring: crypto::Keyring::from_config(KEYS, "1").unwrap(),
        clock: Arc::new(platform::clock::SystemClock),
        public_base_url: "https://josh.example".to_owned(),
        phone_pepper: crypto::PhonePepper::new("test-pepper").unwrap(),
        otp_key: crypto::OtpKey::new("test-pepper").unwrap(),
        billing: conversation_router::billing::Billing::connect_lazy(&billing),
        safety_rules: Default::default(),
    });
    testing::serve(Routes::new(RouterAdminApi::new(pool, ctx).into_server())).await
}

/// linkup-matcher's admin API over `db` (as `josh_linkup_matcher`), on port 0.
pub async fn serve_matcher(db: &TestDb) -> Served {
    let ctx = Arc::new(linkup_matcher::Context {
        keyring: crypto::Keyring::from_config(KEYS, "1").unwrap(),
        clock: Arc::new(platform::clock::SystemClock),
        public_base_url: "https://josh.example".to_owned(),
    });
    let pool = db.pool_as("josh_linkup_matcher").await.unwrap();
    let api = linkup_matcher::admin::MatcherAdminApi::new(pool, ctx);
    testing::serve(Routes::new(api.into_server())).await
}

/// billing's admin API over `db` (as `josh_billing`), on port 0.
pub async fn serve_billing(db: &TestDb) -> Served {
    let pool = db.pool_as("josh_billing").await.unwrap();
    let api = billing::admin::BillingAdminApi::new(pool, Arc::new(platform::clock::SystemClock));
    testing::serve(Routes::new(api.into_server())).await
}

/// inbound-sms's admin API over `db` (as `josh_inbound_sms`), with `keyring`, on port 0.
pub async fn serve_inbound(db: &TestDb, keyring: crypto::Keyring) -> Served {
    let pool = db.pool_as("josh_inbound_sms").await.unwrap();
    let api = inbound_sms::admin::InboundAdminApi::new(pool, keyring);
    testing::serve(Routes::new(api.into_server())).await
}

/// outbound-sender's admin API over `db` (as `josh_outbound_sender`), with `keyring`, on port 0;
/// its Twilio client points nowhere (nothing here sends).
pub async fn serve_sender(db: &TestDb, keyring: crypto::Keyring, from: &str) -> Served {
    use outbound_sender::{Outbound, Parts, Settings, Tuning};
    let pool = db.pool_as("josh_outbound_sender").await.unwrap();
    let client = twilio::client::MessagesClient::new(
        "http://127.0.0.1:9",
        "AC00000000000000000000000000000000",
        secrecy::SecretString::from("unused"),
        std::time::Duration::from_secs(1),
    )
    .unwrap();
    let sender = twilio::client::Sender::From(from.to_owned());
    let api = outbound_sender::admin::SenderAdminApi::new(Outbound::new(Parts {
        pool,
        keyring,
        pepper: crypto::PhonePepper::new("test-pepper").unwrap(),
        client,
        clock: Arc::new(platform::clock::SystemClock),
        settings: Settings::new(sender, "https://josh.example", &Tuning::default()),
    }));
    testing::serve(Routes::new(api.into_server())).await
}

/// The CLI under test: its database and the admin API URLs it is given.
pub struct Cli {
    pub db: TestDb,
    env: Vec<(&'static str, String)>,
}

impl Cli {
    /// `joshctl` with `DATABASE_URL` pointing at `db` and nothing else set.
    pub fn new(db: TestDb) -> Self {
        Self {
            db,
            env: Vec::new(),
        }
    }

    /// Also sets `var` (e.g. `ROUTER_ADMIN_URL`) to `url`.
    pub fn with(mut self, var: &'static str, url: &str) -> Self {
        self.env.push((var, url.to_owned()));
        self
    }

    /// Runs `joshctl args` with `JOSH_ADMIN_TOKEN` set to `token` when given.
    pub async fn run(&self, token: Option<&str>, args: &[&str]) -> Output {
        self.run_env(token, args, &[]).await
    }

    /// [`Cli::run`] with `env` set on top of (overriding) the CLI's own settings.
    pub async fn run_env(
        &self,
        token: Option<&str>,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Output {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_joshctl"));
        cmd.args(args)
            .env_clear()
            .env("DATABASE_URL", self.db.url())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(env.iter().copied());
        if let Some(token) = token {
            cmd.env("JOSH_ADMIN_TOKEN", token);
        }
        cmd.output().await.unwrap()
    }

    /// A token minted the way ops mint one: `joshctl admin token create`.
    pub async fn token(&self, email: &str, role: &str) -> String {
        let args = ["admin", "token", "create", "--email", email, "--role", role];
        let out = self.run(None, &args).await;
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
