//! The stored brief (`linkups.brief`): the request's LinkupBrief plus what the matcher resolved
//! at creation (activity name and category, the region timezone, each option's start and end).

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::timewin::{self, TimeWindow};

/// One time option of a LinkUp.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeOption {
    /// `A` or `B`.
    pub label: String,
    /// The bucket, e.g. `SAT_MORNING`.
    pub window: String,
    /// When it starts.
    pub starts: OffsetDateTime,
    /// When it ends.
    pub ends: OffsetDateTime,
}

/// A brief as the matcher uses it.
#[derive(Debug, Clone)]
pub struct Brief {
    /// Catalog key.
    pub activity_key: String,
    /// Catalog display name.
    pub activity_name: String,
    /// Catalog category.
    pub category: String,
    /// Option A, and B when two were offered.
    pub options: Vec<TimeOption>,
    /// Motive weights asked for.
    pub motives: std::collections::BTreeMap<String, f64>,
    /// Free-text area hint ("near downtown"), never an address.
    pub location_hint: String,
    /// The region's timezone.
    pub timezone: String,
}

impl Brief {
    /// The JSON stored in `linkups.brief`.
    pub fn to_json(&self, proto: &proto::v1::LinkupBrief) -> Value {
        let options: Vec<Value> = self
            .options
            .iter()
            .map(|o| {
                json!({"label": o.label, "window": o.window,
                            "starts": o.starts.unix_timestamp(), "ends": o.ends.unix_timestamp()})
            })
            .collect();
        json!({
            "activity_key": self.activity_key, "activity_name": self.activity_name,
            "category": self.category, "time_window": proto.time_window,
            "option_b_time_window": proto.option_b_time_window, "radius_miles": proto.radius_miles,
            "constraints": proto.constraints, "motive_emphasis": self.motives,
            "location_hint": self.location_hint, "timezone": self.timezone, "options": options,
        })
    }

    /// Reads a stored brief; missing parts read as empty.
    pub fn from_json(v: &Value) -> Self {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        let ts = |o: &Value, k: &str| {
            o[k].as_i64()
                .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
                .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        };
        let options = v["options"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| TimeOption {
                        label: o["label"].as_str().unwrap_or("A").to_owned(),
                        window: o["window"].as_str().unwrap_or_default().to_owned(),
                        starts: ts(o, "starts"),
                        ends: ts(o, "ends"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let motives = v["motive_emphasis"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, w)| w.as_f64().map(|w| (k.clone(), w)))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            activity_key: s("activity_key"),
            activity_name: s("activity_name"),
            category: s("category"),
            options,
            motives,
            location_hint: s("location_hint"),
            timezone: s("timezone"),
        }
    }

    /// Option A's bucket.
    pub fn window(&self) -> Option<TimeWindow> {
        self.options
            .first()
            .and_then(|o| TimeWindow::parse(&o.window))
    }

    /// The option labelled `label`, else A.
    pub fn option(&self, label: &str) -> Option<&TimeOption> {
        self.options
            .iter()
            .find(|o| o.label == label)
            .or(self.options.first())
    }

    /// "Sat 9am" for an option, in the region's timezone.
    pub fn when(&self, option: &TimeOption) -> String {
        local_label(option.starts, &self.timezone)
    }

    /// The area words for texts.
    pub fn area(&self) -> String {
        if self.location_hint.is_empty() {
            "in your area".to_owned()
        } else {
            self.location_hint.clone()
        }
    }
}

/// "Sat 9am" / "Fri 3:30pm" in `tz`.
pub fn local_label(at: OffsetDateTime, tz: &str) -> String {
    let zoned = jiff::Timestamp::from_second(at.unix_timestamp())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(timewin::zone(tz));
    let day = match zoned.weekday() {
        jiff::civil::Weekday::Monday => "Mon",
        jiff::civil::Weekday::Tuesday => "Tue",
        jiff::civil::Weekday::Wednesday => "Wed",
        jiff::civil::Weekday::Thursday => "Thu",
        jiff::civil::Weekday::Friday => "Fri",
        jiff::civil::Weekday::Saturday => "Sat",
        jiff::civil::Weekday::Sunday => "Sun",
    };
    let (h, m) = (zoned.hour(), zoned.minute());
    let hour12 = if h % 12 == 0 { 12 } else { h % 12 };
    let ampm = if h < 12 { "am" } else { "pm" };
    if m == 0 {
        format!("{day} {hour12}{ampm}")
    } else {
        format!("{day} {hour12}:{m:02}{ampm}")
    }
}
