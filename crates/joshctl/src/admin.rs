//! Admin commands against the conversation-router's admin gRPC API (`ROUTER_ADMIN_URL`, with
//! `JOSH_ADMIN_TOKEN`), and where every admin API is (`*_ADMIN_URL`).

use std::process::ExitCode;

use anyhow::Context;
use rpc::admin::v1 as api;
use rpc::admin::v1::router_admin_client::RouterAdminClient;
use secrecy::{ExposeSecret, SecretString};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// Where and as whom the admin commands talk to the router.
#[derive(Debug, clap::Args)]
pub(crate) struct AdminConn {
    /// The router's admin gRPC API.
    #[arg(
        long,
        env = "ROUTER_ADMIN_URL",
        global = true,
        default_value = "http://127.0.0.1:9082"
    )]
    router_admin_url: String,
    /// outbound-sender's admin gRPC API.
    #[arg(
        long,
        env = "SENDER_ADMIN_URL",
        global = true,
        default_value = "http://127.0.0.1:9085"
    )]
    sender_admin_url: String,
    /// linkup-matcher's admin gRPC API.
    #[arg(
        long,
        env = "MATCHER_ADMIN_URL",
        global = true,
        default_value = "http://127.0.0.1:9083"
    )]
    matcher_admin_url: String,
    /// billing's admin gRPC API (billing's gRPC port).
    #[arg(
        long,
        env = "BILLING_ADMIN_URL",
        global = true,
        default_value = "http://127.0.0.1:9084"
    )]
    billing_admin_url: String,
    /// inbound-sms's admin gRPC API.
    #[arg(
        long,
        env = "INBOUND_ADMIN_URL",
        global = true,
        default_value = "http://127.0.0.1:9081"
    )]
    inbound_admin_url: String,
    /// An admin bearer token (`joshctl admin token create` prints one).
    #[arg(long, env = "JOSH_ADMIN_TOKEN", hide_env_values = true, global = true)]
    admin_token: Option<SecretString>,
}

/// `joshctl user ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum UserCommand {
    /// One person across every service: the router's state and timeline, their LinkUps,
    /// billing, and texts each way (metadata, never a body), merged in time order. Exit 3 when
    /// some service did not answer (the rest is shown).
    Show(crate::user_show::ShowArgs),
    /// Delete an account on the person's request (ops, engineering): the person's data is
    /// scrubbed in every service; they are not texted; opt-out records stay.
    Delete {
        /// E.164 phone number or user id.
        user: String,
        /// Why (e.g. the ticket of the request; written to the audit log).
        #[arg(long)]
        reason: String,
    },
    /// The texts a person sent JOSH and JOSH sent them, in time order (inbound-sms and
    /// outbound-sender): metadata for any role; `--bodies` (support, engineering) decrypts them.
    Messages(crate::user_messages::MessagesArgs),
    /// Everything the services hold about a person, as one JSON object keyed by service
    /// (support, engineering).
    Export(crate::user_export::ExportArgs),
}

/// `joshctl hold PHONE --state soft|hard|none --reason ...`.
#[derive(Debug, clap::Args)]
pub(crate) struct HoldArgs {
    /// E.164 phone number or user id.
    user: String,
    /// soft, hard or none (clears the hold).
    #[arg(long)]
    state: String,
    /// Why (written to the audit log).
    #[arg(long)]
    reason: String,
}

/// A lazy channel to `url` (named by `var` in errors).
fn channel(url: &str, var: &str) -> anyhow::Result<Channel> {
    let endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())
        .map_err(|_| anyhow::anyhow!("{var} is malformed: expected http://host:port"))?
        .connect_timeout(std::time::Duration::from_secs(3));
    Ok(endpoint.connect_lazy())
}

impl AdminConn {
    /// The admin token, or the one-line error saying how to get one.
    fn token(&self) -> anyhow::Result<SecretString> {
        self.admin_token
            .clone()
            .context("JOSH_ADMIN_TOKEN is missing (joshctl admin token create prints one)")
    }

    /// A client of the router's admin API, and the token.
    pub(crate) async fn client(
        &self,
    ) -> anyhow::Result<(RouterAdminClient<Channel>, SecretString)> {
        let token = self.token()?;
        let channel = channel(&self.router_admin_url, "ROUTER_ADMIN_URL")?;
        Ok((RouterAdminClient::new(channel), token))
    }

    /// A channel to outbound-sender's admin API, and the token.
    pub(crate) fn sender_channel(&self) -> anyhow::Result<(Channel, SecretString)> {
        let token = self.token()?;
        Ok((channel(&self.sender_admin_url, "SENDER_ADMIN_URL")?, token))
    }

    /// outbound-sender's admin API address.
    pub(crate) fn sender_admin_url(&self) -> &str {
        &self.sender_admin_url
    }

    /// The router's admin API address.
    pub(crate) fn router_admin_url(&self) -> &str {
        &self.router_admin_url
    }

    /// inbound-sms's admin API address.
    pub(crate) fn inbound_admin_url(&self) -> &str {
        &self.inbound_admin_url
    }

    /// linkup-matcher's admin API address.
    pub(crate) fn matcher_admin_url(&self) -> &str {
        &self.matcher_admin_url
    }

    /// billing's admin API address.
    pub(crate) fn billing_admin_url(&self) -> &str {
        &self.billing_admin_url
    }

    /// A channel to linkup-matcher's admin API, its address, and the token.
    pub(crate) fn matcher_channel(&self) -> anyhow::Result<(Channel, &str, SecretString)> {
        let token = self.token()?;
        let url = &self.matcher_admin_url;
        Ok((channel(url, "MATCHER_ADMIN_URL")?, url, token))
    }

    /// A channel to billing's admin API, its address, and the token.
    pub(crate) fn billing_channel(&self) -> anyhow::Result<(Channel, &str, SecretString)> {
        let token = self.token()?;
        let url = &self.billing_admin_url;
        Ok((channel(url, "BILLING_ADMIN_URL")?, url, token))
    }

    /// The user id of `user` (an E.164 number or a user id), through the router's
    /// `UserTimeline` (which audits the lookup as `user.timeline`), so an unknown number or id
    /// is a clear "not found" rather than an empty answer from the service asked next.
    pub(crate) async fn user_id(&self, user: &str) -> anyhow::Result<String> {
        let (mut client, token) = self.client().await?;
        let which = if is_user_id(user) {
            api::user_timeline_request::User::UserId(user.to_owned())
        } else {
            api::user_timeline_request::User::PhoneE164(user.to_owned())
        };
        let request = authed(api::UserTimelineRequest { user: Some(which) }, &token)?;
        let view = client
            .user_timeline(request)
            .await
            .map_err(|s| explain(&s, &self.router_admin_url))?
            .into_inner();
        Ok(view.user_id)
    }
}

pub(crate) fn authed<T>(message: T, token: &SecretString) -> anyhow::Result<Request<T>> {
    let mut request = Request::new(message);
    let value = format!("Bearer {}", token.expose_secret())
        .parse()
        .map_err(|_| anyhow::anyhow!("JOSH_ADMIN_TOKEN holds characters a header cannot carry"))?;
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}

/// One line saying why the admin API refused.
pub(crate) fn explain(status: &Status, url: &str) -> anyhow::Error {
    let msg = status.message();
    match status.code() {
        Code::Unauthenticated => {
            anyhow::anyhow!("not authenticated ({msg}): set JOSH_ADMIN_TOKEN to a live admin token")
        }
        Code::PermissionDenied => anyhow::anyhow!("permission denied: {msg}"),
        Code::NotFound => anyhow::anyhow!("not found: {msg}"),
        Code::InvalidArgument => anyhow::anyhow!("invalid request: {msg}"),
        Code::FailedPrecondition => anyhow::anyhow!("refused: {msg}"),
        Code::AlreadyExists => anyhow::anyhow!("already done: {msg}"),
        Code::Unavailable => anyhow::anyhow!("cannot reach the admin API at {url}"),
        code => anyhow::anyhow!("the admin API answered {code:?}: {msg}"),
    }
}

/// A user id (UUID text) rather than a phone number.
pub(crate) fn is_user_id(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// `joshctl user ...`.
pub(crate) async fn user(conn: &AdminConn, command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Show(args) => crate::user_show::run(conn, args).await,
        UserCommand::Delete { user, reason } => delete(conn, user, reason).await,
        UserCommand::Messages(args) => crate::user_messages::run(conn, args).await,
        UserCommand::Export(args) => crate::user_export::run(conn, args).await,
    }
}

/// `joshctl hold`.
pub(crate) async fn hold(conn: &AdminConn, args: HoldArgs) -> anyhow::Result<ExitCode> {
    let state = match args.state.as_str() {
        "soft" => api::HoldState::Soft,
        "hard" => api::HoldState::Hard,
        "none" => api::HoldState::None,
        other => anyhow::bail!("--state must be soft, hard or none (not {other:?})"),
    };
    let (mut client, token) = conn.client().await?;
    let which = if is_user_id(&args.user) {
        api::set_hold_request::User::UserId(args.user)
    } else {
        api::set_hold_request::User::PhoneE164(args.user)
    };
    let message = api::SetHoldRequest {
        user: Some(which),
        state: state.into(),
        reason: args.reason,
    };
    let changed = client
        .set_hold(authed(message, &token)?)
        .await
        .map_err(|s| explain(&s, &conn.router_admin_url))?
        .into_inner();
    println!(
        "user {}: hold {} -> {}",
        changed.user_id, changed.previous_state, changed.state
    );
    Ok(ExitCode::SUCCESS)
}

/// `joshctl user delete`.
async fn delete(conn: &AdminConn, user: String, reason: String) -> anyhow::Result<ExitCode> {
    let (mut client, token) = conn.client().await?;
    let which = if is_user_id(&user) {
        api::delete_user_request::User::UserId(user)
    } else {
        api::delete_user_request::User::PhoneE164(user)
    };
    let message = api::DeleteUserRequest {
        user: Some(which),
        reason,
    };
    let deleted = client
        .delete_user(authed(message, &token)?)
        .await
        .map_err(|s| explain(&s, &conn.router_admin_url))?
        .into_inner();
    if deleted.already_deleted {
        println!("user {}: already deleted; nothing changed", deleted.user_id);
    } else {
        println!(
            "user {}: deleted; every service scrubs what it holds",
            deleted.user_id
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Where every service's admin API is, for commands that ask several (`joshctl dlq`).
impl AdminConn {
    /// The admin API of `service` (its name on the bus): the setting naming it, and its URL.
    pub(crate) fn admin_url(&self, service: &str) -> Option<(&'static str, &str)> {
        let found = match service {
            "inbound-sms" => ("INBOUND_ADMIN_URL", &self.inbound_admin_url),
            "conversation-router" => ("ROUTER_ADMIN_URL", &self.router_admin_url),
            "linkup-matcher" => ("MATCHER_ADMIN_URL", &self.matcher_admin_url),
            "billing" => ("BILLING_ADMIN_URL", &self.billing_admin_url),
            "outbound-sender" => ("SENDER_ADMIN_URL", &self.sender_admin_url),
            _ => return None,
        };
        Some((found.0, found.1.as_str()))
    }

    /// A channel to the admin API at `url` (named by `setting` in errors), and the token.
    pub(crate) fn channel_to(
        &self,
        setting: &str,
        url: &str,
    ) -> anyhow::Result<(Channel, SecretString)> {
        Ok((channel(url, setting)?, self.token()?))
    }
}
