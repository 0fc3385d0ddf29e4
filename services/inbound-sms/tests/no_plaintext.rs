//! The whole service in-process (its own role, a private JetStream, the outbox relay): a text
//! with a distinctive body is stored and published, and the plaintext appears nowhere, not in
//! any column of any table, not in any message on the bus. What is stored and published
//! decrypts back with the keyring and the SID.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use crypto::ExposeSecret as _;
use inbound_sms::Service;
use sqlx::{AssertSqlSafe, PgPool};
use testkit::{NatsServer, TestDb, wait_until};
use tokio_util::sync::CancellationToken;

const MARKER: &str = "zebra-periscope-4711";

/// Every (schema, table, column, is_bytea) of every ordinary table outside the system schemas.
async fn columns(admin: &PgPool) -> Vec<(String, String, String, bool)> {
    sqlx::query_as(
        "select c.table_schema::text, c.table_name::text, c.column_name::text, c.data_type = 'bytea'
         from information_schema.columns c
         join information_schema.tables t
           on t.table_schema = c.table_schema and t.table_name = c.table_name
         where t.table_type = 'BASE TABLE'
           and c.table_schema not in ('pg_catalog', 'information_schema')
         order by 1, 2, 3",
    )
    .fetch_all(admin)
    .await
    .unwrap()
}

/// The columns holding `needle`: text-like columns (any type, as text) by substring, bytea
/// columns by byte search.
async fn columns_containing(admin: &PgPool, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for (schema, table, column, is_bytea) in columns(admin).await {
        let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let (schema_q, table_q, column_q) = (quoted(&schema), quoted(&table), quoted(&column));
        let condition = if is_bytea {
            format!("position(convert_to($1, 'UTF8') in {column_q}) > 0")
        } else {
            format!("{column_q}::text like '%' || $1 || '%'")
        };
        let sql = format!("select count(*) from {schema_q}.{table_q} where {condition}");
        let count: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(needle)
            .fetch_one(admin)
            .await
            .unwrap();
        if count > 0 {
            hits.push(format!("{schema}.{table}.{column}"));
        }
    }
    hits
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn no_plaintext_body_in_postgres_or_on_the_bus() {
    let db = TestDb::migrated().await.unwrap();
    let nats = NatsServer::start().await.unwrap();
    let database_url = format!(
        "postgres://postgres@{}/{}?options=-c%20role%3Djosh_inbound_sms",
        db.postgres_addr().unwrap(),
        db.name
    );
    let base_url = "https://josh.example.com";
    let service = Service::build(config(&database_url, &nats.url(), base_url))
        .await
        .unwrap();
    let addr = service.http_addr();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(service.run_until_stopped(shutdown.clone()));
    // The same keys the service runs with, to check what it wrote.
    let keys = config(&database_url, &nats.url(), base_url);

    let http = reqwest::Client::new();
    let message_sid = sid("SM");
    let from = "+14155550141";
    let text = format!("Meet me at the {MARKER} cafe at 10?");
    let body = sms_body(&message_sid, from, &text);
    let sig = python_sign(TOKEN, &format!("{base_url}{SMS}"), &body);
    let response = http
        .post(format!("http://{addr}{SMS}"))
        .header("Content-Type", FORM)
        .header("X-Twilio-Signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_empty_twiml(response).await;

    // The relay publishes it.
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    wait_until(
        "the event on JetStream",
        Duration::from_secs(30),
        || async {
            match js.get_stream(bus::subjects::EVENTS_STREAM).await {
                Ok(mut stream) => stream.info().await.is_ok_and(|i| i.state.messages == 1),
                Err(_) => false,
            }
        },
    )
    .await
    .unwrap();

    // Postgres: the scanner finds what is stored in clear (the number, the SID inside the
    // encoded envelope), so finding no body means there is none.
    let admin = &db.pool;
    assert!(
        columns_containing(admin, from)
            .await
            .contains(&"public.sms_messages.from_e164".to_owned())
    );
    assert!(
        columns_containing(admin, &message_sid)
            .await
            .contains(&"public.event_outbox.payload".to_owned())
    );
    assert_eq!(
        columns_containing(admin, MARKER).await,
        Vec::<String>::new()
    );
    assert_eq!(
        columns_containing(admin, "Meet me").await,
        Vec::<String>::new()
    );

    // The stored body decrypts with the keyring and the SID.
    let (ciphertext, iv, tag, version): (Vec<u8>, Vec<u8>, Vec<u8>, i32) = sqlx::query_as(
        "select body_ciphertext, body_iv, body_tag, key_version from sms_messages where twilio_message_sid = $1",
    )
    .bind(&message_sid)
    .fetch_one(admin)
    .await
    .unwrap();
    let plain = keys
        .keyring
        .decrypt_parts(version, &iv, &ciphertext, &tag, message_sid.as_bytes())
        .unwrap();
    assert_eq!(plain.expose_secret(), text.as_bytes());

    // JetStream: every message of every stream, payload and headers.
    let mut names = js.stream_names();
    let mut streams = Vec::new();
    while let Some(name) = futures::StreamExt::next(&mut names).await {
        streams.push(name.unwrap());
    }
    let mut seen = 0;
    for name in streams {
        let mut stream = js.get_stream(&name).await.unwrap();
        let state = stream.info().await.unwrap().state.clone();
        for seq in state.first_sequence..=state.last_sequence {
            let Ok(message) = stream.get_raw_message(seq).await else {
                continue;
            };
            seen += 1;
            assert!(
                !contains(&message.payload, MARKER),
                "{name} #{seq} carries the body"
            );
            assert!(
                !contains(&message.payload, "Meet me"),
                "{name} #{seq} carries the body"
            );
            for (header, values) in message.headers.iter() {
                for value in values {
                    assert!(
                        !value.as_str().contains(MARKER),
                        "{name} #{seq} header {header}"
                    );
                }
            }
            assert!(
                contains(&message.payload, &message_sid),
                "the scan reads real payloads"
            );
            // What travels decrypts to the text.
            let envelope = proto::decode_envelope(&message.payload).unwrap();
            let Some(proto::Payload::SmsReceived(received)) = envelope.payload else {
                panic!("not sms.received")
            };
            let wire = received.body.unwrap();
            let parts = proto::BodyParts::try_from(&wire).unwrap();
            let on_bus = crypto::EncryptedBody::from_parts(
                parts.key_version,
                &parts.nonce,
                &parts.ciphertext,
                &parts.tag,
            )
            .unwrap();
            let plain = keys
                .keyring
                .decrypt_to_string(&on_bus, message_sid.as_bytes())
                .unwrap();
            assert_eq!(plain.expose_secret(), text);
        }
    }
    assert_eq!(seen, 1);

    // The service counted it.
    let metrics = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"inbound_sms_webhooks_accepted_total{endpoint="sms"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("inbound_sms_webhook_duration_seconds"));

    shutdown.cancel();
    running.await.unwrap().unwrap();
}
