//! Checks of the values the registry stores: names, times, keys.

use crate::Error;

/// The rule of [`check_name`], as its error states it.
pub const NAME_RULE: &str =
    "use 1 to 64 characters of A-Z a-z 0-9 . _ -, not starting with '.' or '-'";

/// The longest name [`check_name`] accepts, in characters.
pub const NAME_MAX: usize = 64;

/// Checks a name: a device id, a group, an alias or a version.
///
/// A name is 1 to 64 characters of `A-Z a-z 0-9 . _ -` and starts with neither `.` nor `-`,
/// so it is safe as a file name, a TUF target name component and a command-line argument.
/// `what` names the value in the error, such as `"group"`.
///
/// ```
/// use tactician_registry::check_name;
///
/// assert!(check_name("group", "pi-zero_2.w").is_ok());
/// assert!(check_name("group", "-rf").is_err());
/// assert!(check_name("alias", "a/b").is_err());
/// ```
pub fn check_name(what: &'static str, value: &str) -> Result<(), Error> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let ok = !value.is_empty()
        && value.len() <= NAME_MAX
        && value.chars().all(allowed)
        && !value.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            what,
            value: value.to_owned(),
            rule: NAME_RULE,
        })
    }
}

/// What [`check_time`] expects, as its error states it.
const TIME_EXPECTED: &str = "an RFC 3339 time such as 2025-01-31T12:00:00Z";

/// Checks an RFC 3339 time: `YYYY-MM-DDTHH:MM:SS`, optional fraction, then `Z` or `±HH:MM`.
///
/// Upper-case `T` and `Z` only, and no leap second: SQLite orders the stored times with
/// `julianday`, which reads exactly this form.
pub(crate) fn check_time(what: &'static str, value: &str) -> Result<(), Error> {
    if is_rfc3339(value) {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            what,
            value: value.to_owned(),
            expected: TIME_EXPECTED,
        })
    }
}

fn is_rfc3339(value: &str) -> bool {
    let b = value.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let (Some(year), Some(month), Some(day)) = (num(0, 4), num(5, 2), num(8, 2)) else {
        return false;
    };
    let (Some(hour), Some(minute), Some(second)) = (num(11, 2), num(14, 2), num(17, 2)) else {
        return false;
    };
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return false;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return false;
    }
    let mut i = 19;
    if at(i, b'.') {
        let digits = b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        i += 1 + digits;
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len()
                && at(i + 3, b':')
                && num(i + 1, 2).is_some_and(|h| h <= 23)
                && num(i + 4, 2).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}

/// Checks a device's public key: not empty, no surrounding space, no control character.
pub(crate) fn check_key(value: &str) -> Result<(), Error> {
    let ok = !value.is_empty() && value.trim() == value && !value.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            what: "public key",
            value: value.to_owned(),
            expected: "a key on one line, without surrounding spaces",
        })
    }
}

/// Checks a deployment's outcome: `ok` or `failed`.
pub(crate) fn check_outcome(value: &str) -> Result<(), Error> {
    if matches!(value, "ok" | "failed") {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            what: "deployment outcome",
            value: value.to_owned(),
            expected: "\"ok\" or \"failed\"",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_rfc3339;

    #[test]
    fn times() {
        for good in [
            "2025-01-31T12:00:00Z",
            "2024-02-29T23:59:59.123456Z",
            "2025-01-31T12:00:00+01:00",
            "2025-01-31T12:00:00.5-05:30",
        ] {
            assert!(is_rfc3339(good), "{good}");
        }
        for bad in [
            "",
            "2025-01-31",
            "2025-01-31 12:00:00Z",
            "2025-01-31t12:00:00z",
            "2025-02-29T12:00:00Z",
            "2025-13-01T12:00:00Z",
            "2025-01-31T24:00:00Z",
            "2025-01-31T12:00:60Z",
            "2025-01-31T12:00:00",
            "2025-01-31T12:00:00.Z",
            "2025-01-31T12:00:00Zx",
            "2025-01-31T12:00:00+1:00",
            "2025-01-31T12:00:00+01:00:00",
            "２025-01-31T12:00:00Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }
}
