//! `GET /l/{token}`: the one-time LinkUp page (product-rules §4). After the lock it shows the
//! activity, the time, the area and the first names, with a meet-in-public note; before it,
//! the head count only. Never phone numbers or addresses. A used or expired link is 410.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::ApiState;
use crate::error::RouterError;
use crate::store::magic::{self, Page};
use crate::text::when::describe_bucket;

/// `GET /l/{token}`.
#[tracing::instrument(skip_all)]
pub(super) async fn show(State(state): State<ApiState>, Path(token): Path<String>) -> Response {
    match render(&state, &token).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(error = %platform::errors::ErrorChain(&error), "LinkUp page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html(shell(
                    "Something went wrong",
                    "<p>Please try again in a minute.</p>",
                )),
            )
                .into_response()
        }
    }
}

async fn render(state: &ApiState, token: &str) -> Result<Response, RouterError> {
    let hash = crypto::hash_magic_link_token(token);
    let now = state.ctx.clock.now();
    let mut tx = state.pool.begin().await?;
    let Some((_, linkup)) = magic::consume(&mut tx, &hash, now).await? else {
        let known = magic::exists(&mut tx, &hash).await?;
        tx.commit().await?;
        let (status, title) = if known {
            (
                StatusCode::GONE,
                "This link was already used or has expired",
            )
        } else {
            (StatusCode::NOT_FOUND, "This link doesn't exist")
        };
        let body = "<p>Text JOSH for a fresh one.</p>";
        return Ok((status, Html(shell(title, body))).into_response());
    };
    let page = match linkup {
        Some(id) => magic::page(&mut tx, id).await?,
        None => None,
    };
    tx.commit().await?;
    let Some(page) = page else {
        return Ok((StatusCode::GONE, Html(shell("This LinkUp is gone", ""))).into_response());
    };
    Ok((StatusCode::OK, Html(body(&page))).into_response())
}

fn body(page: &Page) -> String {
    let activity = escape(page.activity.as_deref().unwrap_or("LinkUp"));
    let when = page
        .event_time
        .and_then(|t| local_time(t, page.timezone.as_deref()))
        .or_else(|| page.time_window.as_deref().map(describe_bucket))
        .unwrap_or_default();
    let locked = matches!(page.state.as_str(), "locked" | "completed");
    let mut html = format!("<p class=\"when\">{}</p>", escape(&when));
    if locked {
        if let Some(place) = &page.place {
            html.push_str(&format!("<p>Where: {}</p>", escape(place)));
        }
        html.push_str("<h2>Who's coming</h2><ul>");
        for name in &page.first_names {
            html.push_str(&format!("<li>{}</li>", escape(name)));
        }
        html.push_str(
            "</ul><p class=\"note\">Meet in a public place. Text DROP if you can't make it.</p>",
        );
    } else {
        let count = page.first_names.len();
        html.push_str(&format!(
            "<p>{count} so far. The group is still forming.</p>"
        ));
    }
    shell(&activity, &html)
}

fn local_time(at: time::OffsetDateTime, tz: Option<&str>) -> Option<String> {
    let zone =
        jiff::tz::TimeZone::get(tz.unwrap_or(crate::linkup::window::DEFAULT_TIMEZONE)).ok()?;
    let zoned = jiff::Timestamp::from_second(at.unix_timestamp())
        .ok()?
        .to_zoned(zone);
    Some(zoned.strftime("%a, %b %-d, %-I:%M %p").to_string())
}

/// A small, readable, mobile-friendly page.
pub(super) fn shell(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · JOSH</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;\
margin:2rem auto;padding:0 1rem;line-height:1.5;color:#222}}h1{{font-size:1.6rem}}\
.when{{font-size:1.2rem;font-weight:600}}.note{{color:#555}}</style></head>\
<body><h1>{title}</h1>{body}</body></html>"
    )
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
