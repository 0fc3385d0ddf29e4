//! `GET /terms` and `GET /privacy`: the pages the consent text links to (product-rules §2), in
//! plain words. Their wording is the product's to own; they state the design (the 30-day body
//! retention job arrives with the operations tooling, issue 8).

use axum::response::Html;

use super::page::shell;

/// `GET /terms`.
pub(super) async fn terms() -> Html<String> {
    Html(shell(
        "JOSH terms",
        "<p>JOSH is for adults 18 and over. It introduces you by text message to small groups of \
people nearby for activities you choose.</p>\
<p>Be kind and meet in public places. Reports, blocks, strikes and holds keep everyone safe: \
threats or harassment pause an account for review.</p>\
<p>Taking part in LinkUps needs a membership, billed by Stripe, which you can cancel anytime.</p>\
<p>Text HELP for help, STOP to stop all texts, DELETE to delete your account. \
Msg&amp;data rates may apply.</p>",
    ))
}

/// `GET /privacy`.
pub(super) async fn privacy() -> Html<String> {
    Html(shell(
        "JOSH privacy",
        "<p>JOSH keeps your name, birthday, phone number, ZIP code and your answers to its \
questions, to introduce you to people you may like.</p>\
<p>Message texts are encrypted and deleted after 30 days; only the fact that a message was sent \
is kept. Your number is shown to another person only when you both chose to share it after \
meeting.</p>\
<p>Payments are handled by Stripe; JOSH never sees your card. Text DELETE to delete your \
account and what JOSH knows about you.</p>",
    ))
}
