//! Tests of maintenance windows: examples, errors, and properties checked against a
//! brute-force reference.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use tactician_agent::window::{Window, WindowConfig, WindowError};

fn config(schedule: &str, duration_minutes: u32, time_zone: &str) -> WindowConfig {
    WindowConfig {
        schedule: schedule.into(),
        duration_minutes,
        time_zone: time_zone.into(),
    }
}

fn window(schedule: &str, duration_minutes: u32, time_zone: &str) -> Window {
    Window::parse(&config(schedule, duration_minutes, time_zone)).expect("valid window")
}

fn ts(text: &str) -> Timestamp {
    text.parse().expect("valid timestamp")
}

fn error(schedule: &str, duration_minutes: u32, time_zone: &str) -> WindowError {
    Window::parse(&config(schedule, duration_minutes, time_zone)).expect_err("invalid window")
}

#[test]
fn daily_utc_window() {
    let w = window("0 2 * * *", 120, "UTC");
    assert!(w.is_open(ts("2024-05-01T02:00:00Z")));
    assert!(w.is_open(ts("2024-05-01T03:59:00Z")));
    assert!(w.is_open(ts("2024-05-01T03:59:59.999Z")));
    assert!(!w.is_open(ts("2024-05-01T04:00:00Z")));
    assert!(!w.is_open(ts("2024-05-01T01:59:00Z")));
    assert!(!w.is_open(ts("2024-05-01T01:59:59.999Z")));
    assert_eq!(
        w.next_open(ts("2024-05-01T03:00:00Z")),
        Some(ts("2024-05-01T03:00:00Z"))
    );
    assert_eq!(
        w.next_open(ts("2024-05-01T01:59:30Z")),
        Some(ts("2024-05-01T02:00:00Z"))
    );
    assert_eq!(
        w.next_open(ts("2024-05-01T04:00:00Z")),
        Some(ts("2024-05-02T02:00:00Z"))
    );
    assert_eq!(
        w.closes_at(ts("2024-05-01T02:00:00Z")),
        Some(ts("2024-05-01T04:00:00Z"))
    );
    assert_eq!(w.closes_at(ts("2024-05-01T04:00:00Z")), None);
}

#[test]
fn weekdays_only() {
    // 2024-01-05 is a Friday, 2024-01-08 a Monday.
    let w = window("0 2 * * 1-5", 60, "UTC");
    assert!(w.is_open(ts("2024-01-05T02:30:00Z")));
    assert!(!w.is_open(ts("2024-01-06T02:30:00Z")));
    assert!(!w.is_open(ts("2024-01-07T02:30:00Z")));
    assert_eq!(
        w.next_open(ts("2024-01-05T03:00:00Z")),
        Some(ts("2024-01-08T02:00:00Z"))
    );
}

#[test]
fn lists_and_steps() {
    let w = window("0,30 */6 * * *", 10, "UTC");
    for open in ["00:00", "00:09", "06:30", "12:05", "18:39"] {
        assert!(w.is_open(ts(&format!("2024-01-01T{open}:00Z"))), "{open}");
    }
    for closed in ["00:10", "01:00", "06:40", "07:00", "23:30"] {
        assert!(
            !w.is_open(ts(&format!("2024-01-01T{closed}:00Z"))),
            "{closed}"
        );
    }
    // A-B/S and N/S (N to the end of the range, step S).
    let w = window("5-20/5,45/5 3 * * *", 1, "UTC");
    let open: Vec<u32> = (0..60)
        .filter(|m| w.is_open(ts(&format!("2024-01-01T03:{m:02}:00Z"))))
        .collect();
    assert_eq!(open, [5, 10, 15, 20, 45, 50, 55]);
}

#[test]
fn month_and_day_names_match_numbers() {
    let named = window("0 12 * jan-Mar,DEC Mon,wed-FRI", 30, "UTC");
    let numbered = window("0 12 * 1-3,12 1,3-5", 30, "UTC");
    let mut t = ts("2024-01-01T00:00:00Z");
    let mut opened = 0;
    while t < ts("2025-01-01T00:00:00Z") {
        assert_eq!(named.is_open(t), numbered.is_open(t), "{t}");
        opened += usize::from(named.is_open(t));
        t += SignedDuration::from_mins(15);
    }
    assert!(opened > 100);
}

#[test]
fn sunday_is_zero_and_seven() {
    // 2024-01-07 is a Sunday.
    for schedule in ["0 9 * * 0", "0 9 * * 7", "0 9 * * SUN", "0 9 * * 6-7"] {
        let w = window(schedule, 60, "UTC");
        assert!(w.is_open(ts("2024-01-07T09:30:00Z")), "{schedule}");
        assert!(!w.is_open(ts("2024-01-08T09:30:00Z")), "{schedule}");
    }
}

#[test]
fn day_of_month_or_day_of_week() {
    // 2024-09-13 is a Friday; 2024-01-13 a Saturday; 2024-01-12 a Friday.
    let either = window("0 0 13 * 5", 60, "UTC");
    let dom_only = window("0 0 13 * *", 60, "UTC");
    let dow_only = window("0 0 * * 5", 60, "UTC");
    let at = |day: &str| ts(&format!("2024-{day}T00:30:00Z"));
    assert!(either.is_open(at("01-13")) && either.is_open(at("01-12")));
    assert!(!either.is_open(at("01-11")));
    assert!(dom_only.is_open(at("01-13")) && !dom_only.is_open(at("01-12")));
    assert!(!dow_only.is_open(at("01-13")) && dow_only.is_open(at("01-12")));
}

#[test]
fn berlin_local_time_in_winter_and_summer() {
    let w = window("0 2 * * *", 60, "Europe/Berlin");
    assert!(w.is_open(ts("2024-01-15T01:00:00Z")));
    assert!(!w.is_open(ts("2024-01-15T00:59:00Z")));
    assert!(!w.is_open(ts("2024-01-15T02:00:00Z")));
    assert!(w.is_open(ts("2024-07-15T00:00:00Z")));
    assert!(!w.is_open(ts("2024-07-14T23:59:00Z")));
    assert!(!w.is_open(ts("2024-07-15T01:00:00Z")));
    assert_eq!(
        w.next_open(ts("2024-07-14T12:00:00Z")),
        Some(ts("2024-07-15T00:00:00Z"))
    );
    assert_eq!(
        w.next_open(ts("2024-01-14T12:00:00Z")),
        Some(ts("2024-01-15T01:00:00Z"))
    );
}

#[test]
fn dst_gap_start_does_not_occur() {
    // Europe/Berlin springs forward 2024-03-31 02:00 CET -> 03:00 CEST: 02:30 does not exist.
    let w = window("30 2 * * *", 10, "Europe/Berlin");
    assert!(w.is_open(ts("2024-03-30T01:30:00Z")));
    for t in [
        "2024-03-31T00:30:00Z",
        "2024-03-31T01:30:00Z",
        "2024-03-31T02:30:00Z",
    ] {
        assert!(!w.is_open(ts(t)), "{t}");
    }
    assert_eq!(
        w.next_open(ts("2024-03-30T02:00:00Z")),
        Some(ts("2024-04-01T00:30:00Z"))
    );
    // The length is real time: 01:00 CET plus 120 minutes ends at 04:00 CEST.
    let w = window("0 1 * * *", 120, "Europe/Berlin");
    assert!(w.is_open(ts("2024-03-31T01:59:00Z")));
    assert_eq!(
        w.closes_at(ts("2024-03-31T00:00:00Z")),
        Some(ts("2024-03-31T02:00:00Z"))
    );
}

#[test]
fn dst_fold_start_occurs_once() {
    // Europe/Berlin falls back 2024-10-27 03:00 CEST -> 02:00 CET: 02:30 occurs twice.
    let w = window("30 2 * * *", 10, "Europe/Berlin");
    assert!(w.is_open(ts("2024-10-27T00:30:00Z")));
    assert!(!w.is_open(ts("2024-10-27T01:30:00Z")));
    assert_eq!(
        w.closes_at(ts("2024-10-27T00:35:00Z")),
        Some(ts("2024-10-27T00:40:00Z"))
    );
    assert_eq!(
        w.next_open(ts("2024-10-27T00:45:00Z")),
        Some(ts("2024-10-28T01:30:00Z"))
    );
    // The length is real time: 02:00 CEST plus 120 minutes ends at 03:00 CET.
    let w = window("0 2 * * *", 120, "Europe/Berlin");
    assert!(w.is_open(ts("2024-10-27T01:59:00Z")));
    assert!(!w.is_open(ts("2024-10-27T02:00:00Z")));
}

#[test]
fn window_spanning_midnight() {
    let w = window("0 23 * * 5", 180, "UTC"); // Fridays 23:00 to Saturday 02:00.
    assert!(w.is_open(ts("2024-01-05T23:30:00Z")));
    assert!(w.is_open(ts("2024-01-06T01:59:00Z")));
    assert!(!w.is_open(ts("2024-01-06T02:00:00Z")));
    assert!(!w.is_open(ts("2024-01-06T23:30:00Z")));
    assert_eq!(
        w.closes_at(ts("2024-01-06T00:00:00Z")),
        Some(ts("2024-01-06T02:00:00Z"))
    );
}

#[test]
fn overlapping_occurrences_merge() {
    let w = window("0 2,3 * * *", 90, "UTC");
    assert_eq!(
        w.closes_at(ts("2024-01-01T02:10:00Z")),
        Some(ts("2024-01-01T04:30:00Z"))
    );
    let back_to_back = window("0 2,3 * * *", 60, "UTC");
    assert_eq!(
        back_to_back.closes_at(ts("2024-01-01T02:10:00Z")),
        Some(ts("2024-01-01T04:00:00Z"))
    );
    let hourly = window("0 * * * *", 90, "UTC");
    let now = ts("2024-01-01T02:10:00Z");
    assert!(hourly.is_open(now));
    assert_eq!(
        hourly.closes_at(now),
        None,
        "never closes within the horizon"
    );
}

#[test]
fn schedules_that_never_or_rarely_match() {
    for schedule in ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *"] {
        let w = window(schedule, 60, "UTC");
        let now = ts("2024-01-01T00:00:00Z");
        assert!(!w.is_open(now));
        assert_eq!(w.next_open(now), None, "{schedule}");
        assert_eq!(w.closes_at(now), None);
    }
    let leap = window("0 0 29 2 *", 60, "UTC");
    assert_eq!(
        leap.next_open(ts("2024-03-01T00:00:00Z")),
        Some(ts("2028-02-29T00:00:00Z"))
    );
}

#[test]
fn always_is_always_open() {
    let w = Window::always();
    for t in [Timestamp::MIN, ts("2024-01-01T00:00:00Z"), Timestamp::MAX] {
        assert!(w.is_open(t));
        assert_eq!(w.next_open(t), Some(t));
        assert_eq!(w.closes_at(t), None);
    }
}

#[test]
fn extreme_instants_do_not_panic() {
    for (schedule, minutes) in [
        ("* * * * *", 10_080),
        ("0 0 29 2 *", 1),
        ("59 23 31 12 *", 60),
    ] {
        for zone in ["UTC", "Europe/Berlin", "Pacific/Kiritimati", "Etc/GMT+12"] {
            let w = window(schedule, minutes, zone);
            for t in [Timestamp::MIN, Timestamp::MAX] {
                let _ = (w.is_open(t), w.next_open(t), w.closes_at(t));
            }
        }
    }
}

#[test]
fn errors_say_what_is_expected() {
    let cases: [(WindowError, &str); 11] = [
        (error("0 2 * *", 60, "UTC"), "has 4 fields, expected 5"),
        (
            error("0 25 * * *", 60, "UTC"),
            "schedule field 2 (hour) value 25 is out of range 0-23",
        ),
        (
            error("60 2 * * *", 60, "UTC"),
            "field 1 (minute) value 60 is out of range 0-59",
        ),
        (
            error("0 2 0 * *", 60, "UTC"),
            "field 3 (day-of-month) value 0 is out of range 1-31",
        ),
        (
            error("0 2 * * 8", 60, "UTC"),
            "field 5 (day-of-week) value 8 is out of range 0-7",
        ),
        (
            error("*/0 2 * * *", 60, "UTC"),
            "field 1 (minute) step \"0\" is invalid",
        ),
        (
            error("0 5-3 * * *", 60, "UTC"),
            "field 2 (hour) range \"5-3\" is reversed",
        ),
        (
            error("0 2 * JUNE *", 60, "UTC"),
            "value \"JUNE\" is invalid, expected a number 1-12 or a month name",
        ),
        (
            error("0 2 * * FRI-MON", 60, "UTC"),
            "range \"FRI-MON\" is reversed",
        ),
        (
            error("0 2 * * *", 60, "Mars/Olympus"),
            "unknown time zone \"Mars/Olympus\"",
        ),
        (
            error("0 2 * * *", 0, "UTC"),
            "duration_minutes 0 is out of range 1-10080",
        ),
    ];
    for (err, expected) in cases {
        assert!(
            err.to_string().contains(expected),
            "{err} does not contain {expected}"
        );
    }
    assert!(matches!(
        error("0 2 * * *", 10_081, "UTC"),
        WindowError::Duration { minutes: 10_081 }
    ));
    assert!(matches!(
        error("0 2 * * * *", 60, "UTC"),
        WindowError::FieldCount { found: 6, .. }
    ));
    assert!(matches!(
        error("1,,2 2 * * *", 60, "UTC"),
        WindowError::InvalidValue { field: 1, .. }
    ));
    assert!(matches!(
        error("99999999999 2 * * *", 60, "UTC"),
        WindowError::OutOfRange { .. }
    ));
    assert!(matches!(
        error("-1 2 * * *", 60, "UTC"),
        WindowError::InvalidValue { .. }
    ));
    assert!(matches!(
        error("0 2 * * 1/x", 60, "UTC"),
        WindowError::BadStep { .. }
    ));
}

// ---- Brute-force reference ----

/// One cron list item, generated independently of the parser under test.
#[derive(Debug, Clone)]
enum Item {
    Value(u32),
    Range(u32, u32),
    Step(u32),
    RangeStep(u32, u32, u32),
    FromStep(u32, u32),
}

/// A field: `None` is `*`.
type Field = Option<Vec<Item>>;

/// A field that is `*` with probability `any / (any + 1)`.
fn field(min: u32, max: u32, any: u32) -> impl Strategy<Value = Field> {
    let value = min..=max;
    let pair = (min..=max, min..=max).prop_map(|(a, b)| (a.min(b), a.max(b)));
    let item = prop_oneof![
        value.clone().prop_map(Item::Value),
        pair.clone().prop_map(|(a, b)| Item::Range(a, b)),
        (1..=max + 1).prop_map(Item::Step),
        (pair, 1..=max).prop_map(|((a, b), s)| Item::RangeStep(a, b, s)),
        (value, 1..=max).prop_map(|(a, s)| Item::FromStep(a, s)),
    ];
    prop_oneof![any => Just(None), 1 => prop::collection::vec(item, 1..4).prop_map(Some)]
}

fn render(field: &Field) -> String {
    let Some(items) = field else {
        return "*".into();
    };
    let items = items.iter().map(|item| match item {
        Item::Value(v) => v.to_string(),
        Item::Range(a, b) => format!("{a}-{b}"),
        Item::Step(s) => format!("*/{s}"),
        Item::RangeStep(a, b, s) => format!("{a}-{b}/{s}"),
        Item::FromStep(a, s) => format!("{a}/{s}"),
    });
    items.collect::<Vec<_>>().join(",")
}

fn contains(field: &Field, min: u32, max: u32, v: u32) -> bool {
    let Some(items) = field else { return true };
    let stepped = |a: u32, b: u32, s: u32| (a..=b).contains(&v) && (v - a) % s == 0;
    items.iter().any(|item| match *item {
        Item::Value(a) => v == a,
        Item::Range(a, b) => (a..=b).contains(&v),
        Item::Step(s) => stepped(min, max, s),
        Item::RangeStep(a, b, s) => stepped(a, b, s),
        Item::FromStep(a, s) => stepped(a, max, s),
    })
}

#[derive(Debug, Clone)]
struct Reference {
    fields: [Field; 5],
}

impl Reference {
    fn schedule(&self) -> String {
        self.fields.iter().map(render).collect::<Vec<_>>().join(" ")
    }

    fn matches(&self, dt: DateTime) -> bool {
        let [minute, hour, dom, month, dow] = &self.fields;
        let num = |v: i8| u32::try_from(v).expect("non-negative");
        let weekday = num(dt.weekday().to_sunday_zero_offset());
        let dom_ok = contains(dom, 1, 31, num(dt.day()));
        let dow_ok = contains(dow, 0, 7, weekday) || (weekday == 0 && contains(dow, 0, 7, 7));
        let day_ok = if dom.is_some() && dow.is_some() {
            dom_ok || dow_ok
        } else {
            dom_ok && dow_ok
        };
        contains(minute, 0, 59, num(dt.minute()))
            && contains(hour, 0, 23, num(dt.hour()))
            && contains(month, 1, 12, num(dt.month()))
            && day_ok
    }
}

fn reference() -> impl Strategy<Value = Reference> {
    (
        field(0, 59, 1),
        field(0, 23, 1),
        field(1, 31, 2),
        field(1, 12, 2),
        field(0, 7, 1),
    )
        .prop_map(|(a, b, c, d, e)| Reference {
            fields: [a, b, c, d, e],
        })
}

/// Occurrence starts found minute by minute over `[first, last]` (minute numbers since the
/// epoch): a UTC minute starts an occurrence when its local time matches and it is the first
/// instant with that local time.
struct Brute {
    first: i64,
    duration: i64,
    /// `prefix[i]` = number of starts in minutes `first .. first + i`.
    prefix: Vec<u32>,
}

impl Brute {
    fn new(reference: &Reference, tz: &TimeZone, first: i64, last: i64, duration: i64) -> Brute {
        let mut prefix = vec![0];
        for minute in first..=last {
            let t = Timestamp::from_second(minute * 60).expect("in range");
            let local = tz.to_datetime(t);
            let first_instant = tz.to_ambiguous_timestamp(local).earlier().ok() == Some(t);
            let total = prefix.last().copied().unwrap_or(0);
            prefix.push(total + u32::from(reference.matches(local) && first_instant));
        }
        Brute {
            first,
            duration,
            prefix,
        }
    }

    /// Starts in minutes `a ..= b`.
    fn starts(&self, a: i64, b: i64) -> u32 {
        let index = |m: i64| usize::try_from(m - self.first).expect("inside the scanned range");
        if b < a {
            0
        } else {
            self.prefix[index(b) + 1] - self.prefix[index(a)]
        }
    }

    /// Open at `t`: a start `s` with `t - duration < s <= t`.
    fn open(&self, t: Timestamp) -> bool {
        let last = t.as_second().div_euclid(60);
        let first = (t - SignedDuration::from_mins(self.duration))
            .as_second()
            .div_euclid(60)
            + 1;
        self.starts(first, last) > 0
    }
}

const ZONES: [&str; 4] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
];
const HORIZON_MINUTES: i64 = 3 * 24 * 60;

fn instant() -> impl Strategy<Value = (usize, Timestamp)> {
    // 2020..2030, half of them from two days before to a day after a time zone transition.
    (
        0..ZONES.len(),
        1_577_836_800_i64..1_893_456_000,
        any::<bool>(),
        -172_800_i64..86_400,
        0..1000_i32,
    )
        .prop_map(|(zone, second, near_transition, jitter, millis)| {
            let tz = TimeZone::get(ZONES[zone]).expect("known zone");
            let mut t = Timestamp::new(second, millis * 1_000_000).expect("in range");
            if near_transition {
                if let Some(transition) = tz.following(t).next() {
                    t = transition.timestamp() + SignedDuration::from_secs(jitter);
                }
            }
            (zone, t)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn parsing_any_text_does_not_panic(
        schedule in "[0-9*/,-]{1,6}( [0-9A-Za-z*/,-]{1,6}){3,4}",
        duration in any::<u32>(),
        (_, now) in instant(),
    ) {
        if let Ok(w) = Window::parse(&config(&schedule, duration, "Europe/Berlin")) {
            let _ = (w.is_open(now), w.next_open(now), w.closes_at(now));
        }
    }

    #[test]
    fn agrees_with_brute_force(
        reference in reference(),
        duration in prop_oneof![1..=120_u32, 1..=10_080_u32],
        (zone, now) in instant(),
    ) {
        let tz = TimeZone::get(ZONES[zone]).expect("known zone");
        let w = Window::parse(&config(&reference.schedule(), duration, ZONES[zone])).expect("valid");
        let d = i64::from(duration);
        let now_minute = now.as_second().div_euclid(60);
        let brute = Brute::new(&reference, &tz, now_minute - d, now_minute + HORIZON_MINUTES + d, d);

        let open = brute.open(now);
        prop_assert_eq!(w.is_open(now), open);

        let horizon = now + SignedDuration::from_mins(HORIZON_MINUTES);
        match w.next_open(now) {
            Some(t) => {
                prop_assert!(t >= now);
                prop_assert!(w.is_open(t));
                if t <= horizon {
                    prop_assert!(brute.open(t));
                    // No occurrence overlaps [now, t) when t > now.
                    if t > now {
                        let last = t.as_second().div_euclid(60) - 1;
                        prop_assert_eq!(brute.starts(now_minute - d + 1, last), 0);
                    }
                } else {
                    prop_assert_eq!(brute.starts(now_minute - d + 1, now_minute + HORIZON_MINUTES), 0);
                }
            }
            None => prop_assert_eq!(brute.starts(now_minute - d + 1, now_minute + HORIZON_MINUTES), 0),
        }

        let closes = w.closes_at(now);
        if let Some(c) = closes {
            prop_assert!(open && c > now);
            prop_assert!(!w.is_open(c));
            prop_assert!(w.is_open(c - SignedDuration::from_nanos(1)));
            prop_assert!(c > horizon || !brute.open(c));
        }
        if open {
            // Open at every minute after now until it closes (or up to the horizon).
            let mut b = now_minute + 1;
            while b <= now_minute + HORIZON_MINUTES && closes.is_none_or(|c| b * 60 < c.as_second()) {
                prop_assert!(brute.open(Timestamp::from_second(b * 60).expect("in range")));
                b += 1;
            }
        }
    }
}
