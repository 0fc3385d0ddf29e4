use serde_json::json;

use super::*;

#[allow(clippy::needless_pass_by_value)]
fn person(seed: u128, fingerprint: serde_json::Value, patterns: serde_json::Value) -> Person {
    Person {
        user_id: Uuid::from_u128(seed),
        fingerprint: Fingerprint::from_json(&fingerprint),
        patterns: ActivityPattern::list_from_json(&patterns),
        reliability: None,
        met_before: Some(false),
    }
}

fn fp(pace: f64, depth: f64, humor: f64) -> serde_json::Value {
    json!({
        "social_pace": {"range_value": pace, "confidence": 0.8},
        "connection_depth": {"range_value": depth, "confidence": 0.8},
        "humor": {"range_value": humor, "confidence": 0.8},
    })
}

fn coffee(windows: &[&str], connection: f64) -> serde_json::Value {
    json!([{"activity_key": "coffee", "motive_weights": {"connection": connection},
            "preferred_windows": windows, "confidence": 0.8}])
}

fn moment() -> Moment {
    Moment {
        activity_key: "coffee".into(),
        motives: [("connection".to_owned(), 0.7)].into(),
        window_tags: vec!["morning".into(), "weekend".into()],
        adjacent_tags: vec![],
    }
}

#[test]
fn more_alike_people_score_higher() {
    let me = person(1, fp(0.4, 0.7, 0.5), coffee(&["morning", "weekend"], 0.7));
    let alike = person(2, fp(0.42, 0.68, 0.5), coffee(&["morning", "weekend"], 0.7));
    let unlike = person(3, fp(0.95, 0.05, 0.0), coffee(&["morning", "weekend"], 0.7));
    let a = score(&[&me], &alike, &moment());
    let b = score(&[&me], &unlike, &moment());
    assert!(a.friend > b.friend, "{a:?} vs {b:?}");
    assert!(a.final_score > b.final_score);
    assert!((a.moment - b.moment).abs() < 1e-9, "same moment fit");
}

#[test]
fn ffs_is_confidence_weighted() {
    let a = Fingerprint::from_json(&json!({
        "x": {"range_value": 0.0, "confidence": 0.9}, "y": {"range_value": 0.0, "confidence": 0.1}}));
    let b = Fingerprint::from_json(&json!({
        "x": {"range_value": 0.0, "confidence": 0.9}, "y": {"range_value": 1.0, "confidence": 0.9}}));
    let s = similarity(&a, &b, false).unwrap();
    assert!((s - 0.9).abs() < 1e-9, "{s}");
    assert_eq!(similarity(&a, &Fingerprint::default(), false), None);
}

#[test]
fn act_is_the_min_overlap_over_subject_weight() {
    let c = person(2, json!({}), coffee(&["morning"], 0.35));
    // subject: activity 1.0 + connection 0.7 = 1.7; candidate: activity 0.8, connection 0.35.
    let act = activity_fit(&moment(), None, &c);
    assert!((act - (0.8 + 0.35) / 1.7).abs() < 1e-9, "{act}");
    let hiker = person(
        3,
        json!({}),
        json!([{"activity_key": "hiking", "motive_weights": {}}]),
    );
    assert!(activity_fit(&moment(), None, &hiker) < 0.01);
}

#[test]
fn time_is_window_overlap_and_missing_is_neutral() {
    let both = person(2, json!({}), coffee(&["morning", "weekend"], 0.5));
    let half = person(3, json!({}), coffee(&["morning"], 0.5));
    let none = person(4, json!({}), json!([{"activity_key": "coffee"}]));
    assert_eq!(time_fit(&moment(), &both), Some(1.0));
    assert_eq!(time_fit(&moment(), &half), Some(0.5));
    assert_eq!(time_fit(&moment(), &none), None);
}

#[test]
fn missing_signals_are_neutral_and_weigh_less() {
    let me = person(1, fp(0.5, 0.5, 0.5), coffee(&["morning"], 0.7));
    let blank = person(2, json!({}), coffee(&["morning", "weekend"], 0.7));
    let s = score(&[&me], &blank, &moment());
    assert_eq!(s.components.ffs, None);
    assert!((s.friend - 0.5).abs() < 1e-9);
    assert!(s.final_score > 0.5 && s.final_score < 1.0);
}

#[test]
fn floors_relax_the_activity_floor_at_level_one() {
    let s = Score {
        components: Components {
            ffs: None,
            act: 0.0,
            time: None,
            comms: None,
            prox: 1.0,
            rel: None,
            nov: None,
        },
        friend: 0.6,
        moment: 0.5,
        final_score: 0.5,
    };
    assert!(!Floors::at_level(0).pass(&s));
    assert!(Floors::at_level(1).pass(&s));
}

#[test]
fn ranking_is_deterministic_and_breaks_ties_by_time_then_act_then_last_invite() {
    let base = Score {
        components: Components {
            ffs: Some(0.7),
            act: 0.5,
            time: Some(0.5),
            comms: None,
            prox: 1.0,
            rel: None,
            nov: None,
        },
        friend: 0.7,
        moment: 0.6,
        final_score: 0.70001,
    };
    let with = |id: u128, time: f64, act: f64, fin: f64, last: Option<i64>| Ranked {
        user_id: Uuid::from_u128(id),
        score: Score {
            components: Components {
                time: Some(time),
                act,
                ..base.components
            },
            final_score: fin,
            ..base.clone()
        },
        last_invited_at: last.map(|s| OffsetDateTime::from_unix_timestamp(s).unwrap()),
    };
    let mut list = vec![
        with(1, 0.5, 0.5, 0.70002, Some(100)),
        with(2, 0.5, 0.5, 0.70003, Some(50)),
        with(3, 0.5, 0.9, 0.70004, Some(10)),
        with(4, 1.0, 0.1, 0.70001, Some(10)),
        with(5, 0.0, 0.0, 0.9, None),
        with(6, 0.5, 0.5, 0.70005, None),
    ];
    rank(&mut list, Uuid::from_u128(99), "run");
    let order: Vec<u128> = list.iter().map(|r| r.user_id.as_u128()).collect();
    assert_eq!(order, vec![5, 4, 3, 6, 2, 1]);
    let mut again = list.clone();
    again.reverse();
    rank(&mut again, Uuid::from_u128(99), "run");
    let order2: Vec<u128> = again.iter().map(|r| r.user_id.as_u128()).collect();
    assert_eq!(order, order2);
}

#[test]
fn equal_candidates_fall_back_to_a_stable_hash() {
    let s = Score {
        components: Components {
            ffs: None,
            act: 0.5,
            time: None,
            comms: None,
            prox: 1.0,
            rel: None,
            nov: None,
        },
        friend: 0.5,
        moment: 0.5,
        final_score: 0.5,
    };
    let mk = |id| Ranked {
        user_id: Uuid::from_u128(id),
        score: s.clone(),
        last_invited_at: None,
    };
    let mut a: Vec<Ranked> = (1..=20).map(mk).collect();
    let mut b: Vec<Ranked> = (1..=20).rev().map(mk).collect();
    rank(&mut a, Uuid::nil(), "k1");
    rank(&mut b, Uuid::nil(), "k1");
    let ids = |v: &[Ranked]| v.iter().map(|r| r.user_id).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b));
    let mut c: Vec<Ranked> = (1..=20).map(mk).collect();
    rank(&mut c, Uuid::nil(), "k2");
    assert_ne!(ids(&a), ids(&c), "another run key shuffles differently");
}

#[test]
fn reasons_are_plain_words() {
    let me = person(1, fp(0.4, 0.7, 0.5), coffee(&["morning", "weekend"], 0.7));
    let alike = person(2, fp(0.42, 0.68, 0.5), coffee(&["morning", "weekend"], 0.7));
    let s = score(&[&me], &alike, &moment());
    let reasons = top_reasons(&me, &alike, &moment(), &s);
    assert_eq!(reasons[0], "you both like coffee");
    assert!(
        reasons
            .iter()
            .any(|r| r == "similar social pace" || r == "similar connection depth"),
        "{reasons:?}"
    );
    assert!(reasons.len() <= 3);
}

#[test]
fn reliability_starts_neutral_and_is_clamped() {
    assert_eq!(reliability(0, 0.0), None);
    assert_eq!(reliability(3, 0.15), Some(0.65));
    assert_eq!(reliability(10, -1.0), Some(0.05));
}
