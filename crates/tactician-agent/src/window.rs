//! Maintenance windows: when the device agent may activate a new model.
//!
//! A window is a 5-field cron schedule (`minute hour day-of-month month day-of-week`) read in
//! the civil time of an explicit time zone, plus a duration. Each matching local minute starts
//! an occurrence lasting `duration_minutes` real minutes (start inclusive, end exclusive).
//! Occurrences may overlap; the window is open while any occurrence is. The clock is always
//! passed in, never read here.
//!
//! Daylight saving time: a start time that does not exist on a spring-forward day does not
//! occur that day; a start time that occurs twice in an autumn fold occurs once, at the
//! earlier instant.
//!
//! Day-of-month and day-of-week follow cron: when both fields are restricted (neither is
//! exactly `*`), a day matches when either matches; otherwise both must match.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};

/// Longest allowed window, in minutes (one week).
pub const MAX_DURATION_MINUTES: u32 = 10_080;

/// How far ahead [`Window::next_open`] and [`Window::closes_at`] search: four years and a
/// few days, so that a schedule on February 29 is found.
const HORIZON: SignedDuration = SignedDuration::from_hours(24 * (4 * 366 + 3));

/// More than any difference between two UTC offsets (jiff bounds offsets to under 26 hours).
const OFFSET_SLACK: SignedDuration = SignedDuration::from_hours(72);

const ONE_MINUTE: SignedDuration = SignedDuration::from_mins(1);

/// When activations may happen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WindowConfig {
    /// 5-field cron schedule: minute hour day-of-month month day-of-week, e.g. `"0 2 * * 1-5"`.
    pub schedule: String,
    /// Length of each occurrence in real minutes, 1..=10080.
    pub duration_minutes: u32,
    /// IANA time zone name such as `"Europe/Berlin"`, or `"UTC"`.
    pub time_zone: String,
}

/// Why a [`WindowConfig`] was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// The schedule does not have exactly five whitespace-separated fields.
    #[error(
        "schedule {schedule:?} has {found} fields, expected 5: minute hour day-of-month month day-of-week"
    )]
    FieldCount {
        /// The schedule as given.
        schedule: String,
        /// How many fields it has.
        found: usize,
    },
    /// A value is neither a number nor a name the field accepts.
    #[error("schedule field {field} ({name}) value {value:?} is invalid, expected {expected}")]
    InvalidValue {
        /// 1-based position of the field.
        field: usize,
        /// Name of the field, e.g. `"hour"`.
        name: &'static str,
        /// The offending text.
        value: String,
        /// What the field accepts.
        expected: &'static str,
    },
    /// A number is outside the field's range.
    #[error("schedule field {field} ({name}) value {value} is out of range {min}-{max}")]
    OutOfRange {
        /// 1-based position of the field.
        field: usize,
        /// Name of the field, e.g. `"hour"`.
        name: &'static str,
        /// The offending number as written.
        value: String,
        /// Smallest allowed value.
        min: u32,
        /// Largest allowed value.
        max: u32,
    },
    /// A step (`/S`) is not a whole number of at least 1.
    #[error(
        "schedule field {field} ({name}) step {step:?} is invalid, expected a whole number >= 1"
    )]
    BadStep {
        /// 1-based position of the field.
        field: usize,
        /// Name of the field, e.g. `"hour"`.
        name: &'static str,
        /// The offending step text.
        step: String,
    },
    /// A range `A-B` has A after B.
    #[error("schedule field {field} ({name}) range {range:?} is reversed, expected start <= end")]
    ReversedRange {
        /// 1-based position of the field.
        field: usize,
        /// Name of the field, e.g. `"hour"`.
        name: &'static str,
        /// The offending range text.
        range: String,
    },
    /// The time zone is not known to the time zone database.
    #[error(
        "unknown time zone {name:?}, expected an IANA name such as \"Europe/Berlin\" or \"UTC\""
    )]
    UnknownTimeZone {
        /// The time zone name as given.
        name: String,
        /// What the time zone database reported.
        #[source]
        source: jiff::Error,
    },
    /// The duration is zero or longer than a week.
    #[error("duration_minutes {minutes} is out of range 1-{MAX_DURATION_MINUTES}")]
    Duration {
        /// The duration as given.
        minutes: u32,
    },
}

/// A parsed maintenance window; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Window {
    /// `None` for [`Window::always`].
    schedule: Option<Schedule>,
}

impl Window {
    /// Parses and validates a configuration (schedule, duration and time zone).
    pub fn parse(config: &WindowConfig) -> Result<Window, WindowError> {
        if !(1..=MAX_DURATION_MINUTES).contains(&config.duration_minutes) {
            return Err(WindowError::Duration {
                minutes: config.duration_minutes,
            });
        }
        let fields: Vec<&str> = config.schedule.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields[..] else {
            return Err(WindowError::FieldCount {
                schedule: config.schedule.clone(),
                found: fields.len(),
            });
        };
        let mut weekdays = parse_field(4, dow)?;
        if weekdays & (1 << 7) != 0 {
            weekdays = (weekdays & !(1 << 7)) | 1;
        }
        let tz = if config.time_zone == "UTC" {
            TimeZone::UTC
        } else {
            TimeZone::get(&config.time_zone).map_err(|source| WindowError::UnknownTimeZone {
                name: config.time_zone.clone(),
                source,
            })?
        };
        let schedule = Schedule {
            minutes: parse_field(0, minute)?,
            hours: parse_field(1, hour)?,
            days: parse_field(2, dom)?,
            months: parse_field(3, month)?,
            weekdays,
            dom_or_dow: dom != "*" && dow != "*",
            tz,
            duration: SignedDuration::from_mins(i64::from(config.duration_minutes)),
        };
        Ok(Window {
            schedule: Some(schedule),
        })
    }

    /// "always": a window that is always open (the default when no window is configured).
    pub fn always() -> Window {
        Window { schedule: None }
    }

    /// Whether `now` lies inside an occurrence of the window (an occurrence that started at
    /// most the duration ago; start inclusive, end exclusive).
    pub fn is_open(&self, now: Timestamp) -> bool {
        match &self.schedule {
            None => true,
            Some(schedule) => schedule.open_start(now).is_some(),
        }
    }

    /// The next instant `>= now` at which the window is open (`now` itself when open).
    ///
    /// `None` only if no occurrence starts within about four years (e.g. `"0 0 31 2 *"`).
    pub fn next_open(&self, now: Timestamp) -> Option<Timestamp> {
        let Some(schedule) = &self.schedule else {
            return Some(now);
        };
        if schedule.open_start(now).is_some() {
            return Some(now);
        }
        let limit = schedule.tz.to_datetime(add(now, HORIZON)).date();
        schedule.next_start(now, limit)
    }

    /// When the open window containing `now` closes: the first instant after `now` that no
    /// occurrence covers (overlapping or back-to-back occurrences are merged).
    ///
    /// `None` if the window is closed at `now`, and also if it stays open for the whole
    /// search horizon of about four years (as [`Window::always`] does); use
    /// [`Window::is_open`] to tell these apart.
    pub fn closes_at(&self, now: Timestamp) -> Option<Timestamp> {
        let schedule = self.schedule.as_ref()?;
        let mut start = schedule.open_start(now)?;
        let horizon = add(now, HORIZON);
        loop {
            let end = start.checked_add(schedule.duration).ok()?;
            if end > horizon {
                return None;
            }
            // The latest start at or before `end` (a start exactly at `end` continues the window).
            let limit = schedule.tz.to_datetime(sub(start, OFFSET_SLACK)).date();
            match schedule.prev_start(end, limit) {
                Some(next) if next > start => start = next,
                _ => return Some(end),
            }
        }
    }
}

/// A parsed schedule; each field is a bit set indexed by value.
#[derive(Debug, Clone)]
struct Schedule {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    /// Bit 0 is Sunday.
    weekdays: u64,
    /// Both day fields restricted: a day matches when either matches.
    dom_or_dow: bool,
    tz: TimeZone,
    duration: SignedDuration,
}

impl Schedule {
    /// The start of an occurrence containing `now`, if any (the latest one).
    fn open_start(&self, now: Timestamp) -> Option<Timestamp> {
        let earliest = sub(now, self.duration);
        let limit = self.tz.to_datetime(sub(earliest, OFFSET_SLACK)).date();
        let start = self.prev_start(now, limit)?;
        start
            .checked_add(self.duration)
            .ok()
            .is_none_or(|end| now < end)
            .then_some(start)
    }

    fn day_matches(&self, date: Date) -> bool {
        let dom = has(self.days, date.day());
        let dow = has(self.weekdays, date.weekday().to_sunday_zero_offset());
        let day = (dom && dow) || (self.dom_or_dow && (dom || dow));
        day && has(self.months, date.month())
    }

    /// The earliest occurrence start `>= t`, looking at local dates up to `limit`.
    ///
    /// The map from a valid local start time to its instant (earlier instant in a fold) is
    /// strictly increasing, so the first candidate at or after `t` is the answer; scanning
    /// starts at a local time no later than that of any instant `>= t`.
    fn next_start(&self, t: Timestamp, limit: Date) -> Option<Timestamp> {
        let (low, _) = self.offset_bounds(t, add(t, OFFSET_SLACK));
        let mut from = low.to_datetime(t);
        loop {
            let candidate = self.next_civil(from, limit)?;
            match self.start_instant(candidate) {
                Some(start) if start >= t => return Some(start),
                _ => from = candidate.checked_add(ONE_MINUTE).ok()?,
            }
        }
    }

    /// The latest occurrence start `<= t`, looking at local dates down to `limit`.
    fn prev_start(&self, t: Timestamp, limit: Date) -> Option<Timestamp> {
        let (_, high) = self.offset_bounds(sub(t, OFFSET_SLACK), t);
        let mut from = high.to_datetime(t);
        loop {
            let candidate = self.prev_civil(from, limit)?;
            match self.start_instant(candidate) {
                Some(start) if start <= t => return Some(start),
                _ => from = candidate.checked_sub(ONE_MINUTE).ok()?,
            }
        }
    }

    /// The smallest and largest UTC offset in effect between `from` and `to`.
    fn offset_bounds(&self, from: Timestamp, to: Timestamp) -> (Offset, Offset) {
        let first = self.tz.to_offset(from);
        let (mut low, mut high) = (first, first);
        for transition in self.tz.following(from) {
            if transition.timestamp() > to {
                break;
            }
            low = low.min(transition.offset());
            high = high.max(transition.offset());
        }
        (low, high)
    }

    /// The instant a local start time denotes: none in a gap, the earlier one in a fold.
    fn start_instant(&self, dt: DateTime) -> Option<Timestamp> {
        match self.tz.to_ambiguous_timestamp(dt).offset() {
            AmbiguousOffset::Unambiguous { offset }
            | AmbiguousOffset::Fold { before: offset, .. } => offset.to_timestamp(dt).ok(),
            AmbiguousOffset::Gap { .. } => None,
        }
    }

    /// The first matching local minute at or after `from`'s minute, on a date up to `limit`.
    /// Skips non-matching months, days and hours at once.
    fn next_civil(&self, from: DateTime, limit: Date) -> Option<DateTime> {
        let (mut date, mut hour, mut minute) = split(from);
        loop {
            if date > limit {
                return None;
            }
            if !self.day_matches(date) {
                if !has(self.months, date.month()) {
                    date = date.last_of_month();
                }
                (date, hour, minute) = (date.tomorrow().ok()?, 0, 0);
                continue;
            }
            match next_bit(self.hours, hour) {
                Some(h) if h == hour => {}
                Some(h) => (hour, minute) = (h, 0),
                None => {
                    (date, hour, minute) = (date.tomorrow().ok()?, 0, 0);
                    continue;
                }
            }
            match next_bit(self.minutes, minute) {
                Some(m) => return at(date, hour, m),
                None => (hour, minute) = (hour + 1, 0),
            }
        }
    }

    /// The last matching local minute at or before `from`'s minute, on a date down to `limit`.
    fn prev_civil(&self, from: DateTime, limit: Date) -> Option<DateTime> {
        let (mut date, mut hour, mut minute) = split(from);
        loop {
            if date < limit {
                return None;
            }
            if !self.day_matches(date) {
                if !has(self.months, date.month()) {
                    date = date.first_of_month();
                }
                (date, hour, minute) = (date.yesterday().ok()?, 23, 59);
                continue;
            }
            match prev_bit(self.hours, hour) {
                Some(h) if h == hour => {}
                Some(h) => (hour, minute) = (h, 59),
                None => {
                    (date, hour, minute) = (date.yesterday().ok()?, 23, 59);
                    continue;
                }
            }
            match prev_bit(self.minutes, minute) {
                Some(m) => return at(date, hour, m),
                None if hour == 0 => (date, hour, minute) = (date.yesterday().ok()?, 23, 59),
                None => (hour, minute) = (hour - 1, 59),
            }
        }
    }
}

fn add(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

fn sub(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_sub(d).unwrap_or(Timestamp::MIN)
}

fn split(dt: DateTime) -> (Date, u32, u32) {
    let (hour, minute) = (dt.hour().unsigned_abs(), dt.minute().unsigned_abs());
    (dt.date(), u32::from(hour), u32::from(minute))
}

fn at(date: Date, hour: u32, minute: u32) -> Option<DateTime> {
    let time = Time::new(i8::try_from(hour).ok()?, i8::try_from(minute).ok()?, 0, 0).ok()?;
    Some(date.to_datetime(time))
}

fn has(bits: u64, value: i8) -> bool {
    u32::try_from(value).is_ok_and(|v| v < 64 && bits >> v & 1 == 1)
}

/// The smallest set bit `>= from`.
fn next_bit(bits: u64, from: u32) -> Option<u32> {
    let masked = bits.checked_shr(from)?.checked_shl(from)?;
    (masked != 0).then(|| masked.trailing_zeros())
}

/// The largest set bit `<= from`.
fn prev_bit(bits: u64, from: u32) -> Option<u32> {
    let masked = bits & u64::MAX >> 63_u32.saturating_sub(from.min(63));
    (masked != 0).then(|| 63 - masked.leading_zeros())
}

/// One cron field: name, range, accepted names (`names[i]` stands for `min + i`), and what
/// an error message says it expects.
struct FieldSpec(
    &'static str,
    u32,
    u32,
    &'static [&'static str],
    &'static str,
);

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const FIELDS: [FieldSpec; 5] = [
    FieldSpec("minute", 0, 59, &[], "a number 0-59"),
    FieldSpec("hour", 0, 23, &[], "a number 0-23"),
    FieldSpec("day-of-month", 1, 31, &[], "a number 1-31"),
    FieldSpec(
        "month",
        1,
        12,
        &MONTHS,
        "a number 1-12 or a month name JAN-DEC",
    ),
    FieldSpec(
        "day-of-week",
        0,
        7,
        &DAYS,
        "a number 0-7 (0 or 7 is Sunday) or a day name SUN-SAT",
    ),
];

/// Parses field `index` (0-based) into a bit set of its values.
fn parse_field(index: usize, text: &str) -> Result<u64, WindowError> {
    let FieldSpec(name, min, max, ..) = FIELDS[index];
    let field = index + 1;
    let mut bits = 0_u64;
    for item in text.split(',') {
        let (base, step) = match item.split_once('/') {
            Some((base, step)) => match step.parse::<u32>() {
                Ok(step) if step >= 1 => (base, Some(step)),
                _ => {
                    return Err(WindowError::BadStep {
                        field,
                        name,
                        step: step.to_owned(),
                    });
                }
            },
            None => (item, None),
        };
        let (low, high) = if base == "*" {
            (min, max)
        } else if let Some((a, b)) = base.split_once('-') {
            let (low, high) = (parse_value(index, a)?, parse_value(index, b)?);
            if low > high {
                return Err(WindowError::ReversedRange {
                    field,
                    name,
                    range: base.to_owned(),
                });
            }
            (low, high)
        } else {
            let value = parse_value(index, base)?;
            (value, if step.is_some() { max } else { value })
        };
        let step = usize::try_from(step.unwrap_or(1)).unwrap_or(usize::MAX);
        for value in (low..=high).step_by(step) {
            bits |= 1 << value;
        }
    }
    Ok(bits)
}

/// Parses one number or name of field `index` (0-based), checking its range.
fn parse_value(index: usize, text: &str) -> Result<u32, WindowError> {
    let FieldSpec(name, min, max, names, expected) = FIELDS[index];
    let (field, value) = (index + 1, text.to_owned());
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let number = text.parse::<u32>().ok().filter(|n| (min..=max).contains(n));
        return number.ok_or(WindowError::OutOfRange {
            field,
            name,
            value,
            min,
            max,
        });
    }
    let position = names.iter().position(|n| n.eq_ignore_ascii_case(text));
    let number = position
        .and_then(|p| u32::try_from(p).ok())
        .map(|p| min + p);
    number.ok_or(WindowError::InvalidValue {
        field,
        name,
        value,
        expected,
    })
}
