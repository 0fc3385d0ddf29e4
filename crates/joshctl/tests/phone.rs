//! `joshctl phone` against the Twilio simulator and a fake JOSH that echoes every text back
//! through the simulator's Messages API.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::process::{Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::io::AsyncWriteExt;
use tokio::sync::OnceCell;
use twilio_sim::{SimConfig, Simulator};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "phone-test-token";
const JOSH: &str = "+15005550006";
const PHONE: &str = "+15555550100";
const WEBHOOK_PATH: &str = "/v1/twilio/sms";

/// The fake JOSH: where it is, where the simulator is, and how many signed texts it got.
#[derive(Clone)]
struct FakeJosh {
    webhook_url: String,
    sim_base: Arc<OnceCell<String>>,
    signed_texts: Arc<AtomicUsize>,
}

/// Validates the webhook's signature, then replies `echo: BODY` through the Messages API.
async fn echo(
    State(josh): State<FakeJosh>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> (StatusCode, &'static str) {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !twilio::signature::validate(TOKEN, &josh.webhook_url, &params, signature) {
        return (StatusCode::FORBIDDEN, "");
    }
    josh.signed_texts.fetch_add(1, Ordering::SeqCst);
    let sim = josh.sim_base.get().unwrap();
    let body = format!("echo: {}", get("Body"));
    let reply = reqwest::Client::new()
        .post(format!("{sim}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .form(&[("To", get("From")), ("From", get("To")), ("Body", body)])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    (StatusCode::OK, "<Response/>")
}

/// A simulator wired to a fake JOSH.
async fn stack() -> (Simulator, FakeJosh) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let josh = FakeJosh {
        webhook_url: format!("http://{}{WEBHOOK_PATH}", listener.local_addr().unwrap()),
        sim_base: Arc::new(OnceCell::new()),
        signed_texts: Arc::new(AtomicUsize::new(0)),
    };
    let sim = Simulator::start(SimConfig {
        inbound_webhook_url: Some(josh.webhook_url.clone()),
        callback_delay: Duration::from_millis(20),
        ..SimConfig::new(ACCOUNT, TOKEN)
    })
    .await
    .unwrap();
    josh.sim_base.set(sim.base_url()).unwrap();
    let app = axum::Router::new()
        .route(WEBHOOK_PATH, post(echo))
        .with_state(josh.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (sim, josh)
}

/// Runs `joshctl phone ARGS` with `input` piped to it.
async fn phone(args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_joshctl"))
        .arg("phone")
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("joshctl phone did not exit")
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn piped_lines_are_texted_and_both_replies_printed() {
    let (sim, josh) = stack().await;
    let out = phone(
        &[PHONE, "--sim", &sim.base_url(), "--linger", "1"],
        &[("TWILIO_FROM_NUMBER", JOSH)],
        "hello\n\nhow are you?\n",
    )
    .await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    for reply in ["JOSH: echo: hello", "JOSH: echo: how are you?"] {
        let line = stdout
            .lines()
            .find(|l| l.ends_with(reply))
            .unwrap_or_else(|| panic!("no {reply:?} in:\n{stdout}"));
        // `[HH:MM:SS] JOSH: ...`
        assert_eq!(line.as_bytes()[0], b'[', "{line}");
        assert_eq!(line.as_bytes()[9], b']', "{line}");
    }
    assert_eq!(
        josh.signed_texts.load(Ordering::SeqCst),
        2,
        "the empty line is not sent"
    );
    let inbound = sim.inbound_messages();
    assert_eq!(inbound.len(), 2);
    assert_eq!(inbound[0].from.as_deref(), Some(PHONE));
    assert_eq!(inbound[0].to, JOSH);
    assert_eq!(sim.phone_messages(PHONE).len(), 2);
}

#[tokio::test]
async fn the_simulator_can_supply_joshs_number_and_old_messages_are_not_replayed() {
    let (sim, _josh) = stack().await;
    sim.set_josh_number(Some(JOSH.to_owned()));
    sim.send_inbound(PHONE, JOSH, "before").await.unwrap();
    // The echo of "before" is in the phone's inbox before `joshctl phone` starts.
    testkit::wait_until(
        "the echo of the earlier text to reach the phone",
        Duration::from_secs(10),
        || async { !sim.phone_messages(PHONE).is_empty() },
    )
    .await
    .unwrap();
    assert_eq!(sim.phone_messages(PHONE).len(), 1);

    let out = phone(
        &[PHONE, "--sim", &sim.base_url(), "--linger", "1"],
        &[],
        "hi\n",
    )
    .await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("JOSH: echo: hi"), "{stdout}");
    assert!(!stdout.contains("echo: before"), "{stdout}");
    assert_eq!(sim.inbound_messages()[1].to, JOSH);
}

#[tokio::test]
async fn an_unreachable_simulator_is_a_clear_error() {
    let out = phone(
        &[PHONE, "--to", JOSH, "--sim", "http://127.0.0.1:9"],
        &[],
        "hello\n",
    )
    .await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Twilio simulator") && stderr.contains("http://127.0.0.1:9"),
        "{stderr}"
    );
    assert!(stderr.contains("deploy/dev.sh up"), "{stderr}");
}

#[tokio::test]
async fn bad_numbers_are_refused() {
    let out = phone(&["555-0100", "--to", JOSH], &[], "").await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("E.164"), "{}", text(&out.stderr));
}
