//! The simulator's in-memory world: the messages it accepted, what each phone received, and the
//! faults it has been told to inject. Everything sits behind one mutex that is never held across
//! an `.await`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::watch;
use twilio::status::MessageStatus;

/// A message the simulator knows: one created through the Messages API (outbound) or one a
/// simulated phone sent to JOSH (inbound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimMessage {
    /// `SM` followed by 32 hex digits.
    pub sid: String,
    /// The account that created (or received) it.
    pub account_sid: String,
    /// The sender; `None` when an outbound message named only a Messaging Service.
    pub from: Option<String>,
    /// The Messaging Service it was sent through, if any.
    pub messaging_service_sid: Option<String>,
    /// The recipient.
    pub to: String,
    /// The text (empty for a media-only message).
    pub body: String,
    /// The current status (moves forward only, as [`MessageStatus::advances_to`] allows).
    pub status: MessageStatus,
    /// Where status callbacks go (`StatusCallback` on create).
    pub status_callback: Option<String>,
    /// `ValidityPeriod` on create, in seconds.
    pub validity_period: Option<u32>,
    /// Segments the body costs ([`twilio::segments::count`]).
    pub num_segments: usize,
    /// `MediaUrl` values on create, in order.
    pub media_urls: Vec<String>,
    /// The error code of a failed or undelivered message.
    pub error_code: Option<u32>,
    /// When it was created.
    pub date_created: OffsetDateTime,
    /// When its status last changed.
    pub date_updated: OffsetDateTime,
    /// When it was sent to the carrier, once it was.
    pub date_sent: Option<OffsetDateTime>,
}

/// How the simulated carrier treats messages to one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberBehavior {
    /// Delivered normally: `sent` then `delivered` (the default).
    #[default]
    Deliver,
    /// The recipient replied STOP: create answers 400 with error 21610.
    OptedOut,
    /// Accepted, then `sent` and `undelivered` with this `ErrorCode` (30003, 30005, 30006,
    /// 30007, 30008...).
    Unreachable(u32),
    /// Accepted, then `failed` with this `ErrorCode` without ever being sent (30001, 30034...).
    Fail(u32),
}

/// An error the next creates answer instead of accepting the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InjectedError {
    pub http_status: u16,
    pub code: Option<u32>,
}

#[derive(Debug)]
struct World {
    messages: Vec<SimMessage>,
    by_sid: HashMap<String, usize>,
    inbound: Vec<SimMessage>,
    inbound_sids: HashSet<String>,
    /// Per phone number: indexes into `messages` of what it received, in delivery order.
    inboxes: HashMap<String, Vec<usize>>,
    fail_next: VecDeque<InjectedError>,
    behaviors: HashMap<String, NumberBehavior>,
    create_delay: Duration,
    /// Create requests received and not yet answered (or abandoned by their client).
    creates_in_flight: usize,
    auto_callbacks: bool,
    drop_callbacks: bool,
    josh_number: Option<String>,
}

/// The world plus a signal that fires whenever a phone receives a message.
#[derive(Debug)]
pub(crate) struct Store {
    world: Mutex<World>,
    delivered: watch::Sender<u64>,
}

impl Store {
    pub fn new(auto_callbacks: bool) -> Self {
        Self {
            world: Mutex::new(World {
                messages: Vec::new(),
                by_sid: HashMap::new(),
                inbound: Vec::new(),
                inbound_sids: HashSet::new(),
                inboxes: HashMap::new(),
                fail_next: VecDeque::new(),
                behaviors: HashMap::new(),
                create_delay: Duration::ZERO,
                creates_in_flight: 0,
                auto_callbacks,
                drop_callbacks: false,
                josh_number: None,
            }),
            delivered: watch::Sender::new(0),
        }
    }

    fn world(&self) -> MutexGuard<'_, World> {
        // A panic elsewhere cannot leave the world half-updated in a way that matters to a
        // simulator: keep serving.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn insert(&self, message: SimMessage) {
        let mut world = self.world();
        let index = world.messages.len();
        world.by_sid.insert(message.sid.clone(), index);
        world.messages.push(message);
    }

    pub fn messages(&self) -> Vec<SimMessage> {
        self.world().messages.clone()
    }

    /// Up to `limit` created messages from index `from` on, and how many exist in all.
    pub fn messages_from(&self, from: usize, limit: usize) -> (usize, Vec<SimMessage>) {
        let world = self.world();
        let page = world.messages.iter().skip(from).take(limit).cloned();
        (world.messages.len(), page.collect())
    }

    /// Records an inbound message unless one with its SID is already recorded (a redelivered
    /// webhook); returns whether it was new.
    pub fn insert_inbound_once(&self, message: SimMessage) -> bool {
        let mut world = self.world();
        if !world.inbound_sids.insert(message.sid.clone()) {
            return false;
        }
        world.inbound.push(message);
        true
    }

    pub fn inbound(&self) -> Vec<SimMessage> {
        self.world().inbound.clone()
    }

    pub fn create_count(&self) -> usize {
        self.world().messages.len()
    }

    pub fn message(&self, sid: &str) -> Option<SimMessage> {
        let world = self.world();
        world.by_sid.get(sid).map(|&i| world.messages[i].clone())
    }

    /// Moves `sid` to `status` if that is forward (recording `error_code` with a failure); a
    /// first `delivered` lands the message in the recipient's inbox. Returns the message as it
    /// now is, or `None` for an unknown SID.
    pub fn advance(
        &self,
        sid: &str,
        status: MessageStatus,
        error_code: Option<u32>,
    ) -> Option<SimMessage> {
        let mut world = self.world();
        let index = *world.by_sid.get(sid)?;
        let message = &mut world.messages[index];
        if !message.status.advances_to(status) {
            return Some(message.clone());
        }
        let now = OffsetDateTime::now_utc();
        message.status = status;
        message.date_updated = now;
        if matches!(status, MessageStatus::Sent | MessageStatus::Delivered) {
            message.date_sent.get_or_insert(now);
        }
        if matches!(status, MessageStatus::Failed | MessageStatus::Undelivered) {
            message.error_code = error_code;
        }
        let snapshot = message.clone();
        if status == MessageStatus::Delivered {
            world
                .inboxes
                .entry(snapshot.to.clone())
                .or_default()
                .push(index);
            drop(world);
            self.delivered.send_modify(|n| *n += 1);
        }
        Some(snapshot)
    }

    /// What `number` received, with each message's position in its inbox, from `from_index` on.
    pub fn inbox(&self, number: &str, from_index: usize) -> Vec<(usize, SimMessage)> {
        let world = self.world();
        world
            .inboxes
            .get(number)
            .map(|indexes| {
                indexes
                    .iter()
                    .enumerate()
                    .skip(from_index)
                    .map(|(position, &i)| (position, world.messages[i].clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A receiver that changes whenever any phone receives a message.
    pub fn watch_deliveries(&self) -> watch::Receiver<u64> {
        self.delivered.subscribe()
    }

    /// How many inbox requests are watching for deliveries right now.
    pub fn inbox_waiters(&self) -> usize {
        self.delivered.receiver_count()
    }

    /// A create request arrived.
    pub fn create_started(&self) {
        let mut world = self.world();
        world.creates_in_flight = world.creates_in_flight.saturating_add(1);
    }

    /// A create request was answered, or abandoned by its client.
    pub fn create_ended(&self) {
        let mut world = self.world();
        world.creates_in_flight = world.creates_in_flight.saturating_sub(1);
    }

    pub fn creates_in_flight(&self) -> usize {
        self.world().creates_in_flight
    }

    /// The failure the next create answers, if one is pending (consumed).
    pub fn take_injected_error(&self) -> Option<InjectedError> {
        self.world().fail_next.pop_front()
    }

    pub fn fail_next_creates(&self, n: usize, error: InjectedError) {
        let mut world = self.world();
        world.fail_next.clear();
        world.fail_next.extend(std::iter::repeat_n(error, n));
    }

    pub fn behavior(&self, number: &str) -> NumberBehavior {
        self.world()
            .behaviors
            .get(number)
            .copied()
            .unwrap_or_default()
    }

    pub fn set_behavior(&self, number: &str, behavior: NumberBehavior) {
        let mut world = self.world();
        if behavior == NumberBehavior::Deliver {
            world.behaviors.remove(number);
        } else {
            world.behaviors.insert(number.to_owned(), behavior);
        }
    }

    pub fn create_delay(&self) -> Duration {
        self.world().create_delay
    }

    pub fn set_create_delay(&self, delay: Duration) {
        self.world().create_delay = delay;
    }

    pub fn auto_callbacks(&self) -> bool {
        self.world().auto_callbacks
    }

    pub fn set_auto_callbacks(&self, on: bool) {
        self.world().auto_callbacks = on;
    }

    pub fn drop_callbacks(&self) -> bool {
        self.world().drop_callbacks
    }

    pub fn set_drop_callbacks(&self, on: bool) {
        self.world().drop_callbacks = on;
    }

    pub fn josh_number(&self) -> Option<String> {
        self.world().josh_number.clone()
    }

    pub fn set_josh_number(&self, number: Option<String>) {
        self.world().josh_number = number;
    }
}
