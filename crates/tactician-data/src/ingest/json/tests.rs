//! Tests of the JSON parser: error kinds, strings and escapes, numbers (arrays, short
//! decimals, correct rounding, exact integers) against Rust's own parsing and `serde_json`,
//! the word-at-a-time helpers against their byte-by-byte definitions, and the fast skip
//! against the general one on valid, damaged and generated documents.

use super::number::{digit_pairs, short_decimal};
use super::skip::fast_skip;
use super::string::{STRING_SPECIAL, first_special};
use super::*;
use proptest::prelude::*;

fn skip_all(s: &str) -> Result<()> {
    let mut p = Parser::new(s.as_bytes());
    p.skip()?;
    p.finish()
}

#[test]
fn classifies_errors() {
    assert_eq!(skip_all(r#"{"a": [1, 2"#).unwrap_err().kind, ErrorKind::Eof);
    assert_eq!(skip_all(r#"{"a": tru"#).unwrap_err().kind, ErrorKind::Eof);
    assert_eq!(
        skip_all(r#"{"a": NaN}"#).unwrap_err().kind,
        ErrorKind::NonFinite
    );
    assert_eq!(
        skip_all(r#"{"a": -Infinity}"#).unwrap_err().kind,
        ErrorKind::NonFinite
    );
    assert!(matches!(
        skip_all(r#"{"a" 1}"#).unwrap_err().kind,
        ErrorKind::Syntax(_)
    ));
    assert!(matches!(
        skip_all(r#"{"a": 01}"#).unwrap_err().kind,
        ErrorKind::Syntax(_)
    ));
    assert_eq!(skip_all(r#"{} x"#).unwrap_err().kind, ErrorKind::Trailing);
    let deep = "[".repeat(100) + &"]".repeat(100);
    assert_eq!(skip_all(&deep).unwrap_err().kind, ErrorKind::TooDeep);
    let mut p = Parser::new(b"1e39");
    assert_eq!(p.f32().unwrap_err().kind, ErrorKind::NonFinite);
    let mut p = Parser::new(b"\"x\"");
    assert_eq!(p.f32().unwrap_err().kind, ErrorKind::Type("a number"));
    let mut p = Parser::new(b"-1");
    assert!(matches!(p.u64().unwrap_err().kind, ErrorKind::Type(_)));
    let mut p = Parser::new(b"18446744073709551616");
    assert!(matches!(p.u64().unwrap_err().kind, ErrorKind::Type(_)));
}

#[test]
fn reads_strings_with_escapes() {
    let mut p = Parser::new(br#""a\"b\\c\u00e9\ud83d\ude00\n""#);
    assert_eq!(p.string().unwrap(), "a\"b\\c\u{e9}\u{1F600}\n");
    let mut p = Parser::new(br#""\ud83d""#);
    assert!(p.string().is_err());
}

proptest! {
    /// Arrays of f32 written by serde_json read back exactly through the fast paths.
    #[test]
    fn f32_array_round_trips(v in proptest::collection::vec(
        prop_oneof![
            any::<f32>().prop_filter("finite", |v| v.is_finite()),
            (0u32..10).prop_map(|d| d as f32),
            (0u32..1_000_000, 1u32..7).prop_map(|(m, k)| m as f32 / 10f32.powi(k as i32)),
        ],
        0..40,
    )) {
        let text = serde_json::to_string(&v).unwrap();
        let mut p = Parser::new(text.as_bytes());
        let mut out = Vec::new();
        p.f32_array(&mut out).unwrap();
        p.finish().unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&out), bits(&v));
    }

    /// Arrays as encoders write them (runs of single digits, short decimals, integers,
    /// exponents, optional spaces) read the same through the fast paths as element by
    /// element, and malformed ones fail the same way.
    #[test]
    fn f32_array_matches_the_general_parser(
        items in proptest::collection::vec(
            prop_oneof![
                4 => (0u8..10).prop_map(|d| d.to_string()),
                1 => (0u32..100_000, 1usize..6).prop_map(|(m, k)| format!("{}.{:0k$}", m / 10_000, m % 10_000, k = k)),
                1 => "-?[0-9]{1,3}(\\.[0-9]{1,9})?([eE][+-]?[0-9]{1,2})?",
                1 => Just(" 1".to_string()),
                1 => Just("1 ".to_string()),
                1 => "[0-9a.,x\\]\\[ -]{1,3}",
            ],
            0..40,
        ),
        cut in 0usize..400,
    ) {
        let text = format!("[{}]", items.join(","));
        let text = &text[..text.len() - cut.min(text.len()) % 3];
        let mut fast = Vec::new();
        let a = Parser::new(text.as_bytes()).f32_array(&mut fast);
        let mut slow = Vec::new();
        let b = Parser::new(text.as_bytes()).array(|p| {
            slow.push(p.f32()?);
            Ok(())
        });
        prop_assert_eq!(&a, &b, "{}", text);
        if a.is_ok() {
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&fast), bits(&slow), "{}", text);
        }
    }

    /// The word-at-a-time string scan stops where the byte loop does.
    #[test]
    fn first_special_matches_the_table(
        bytes in proptest::collection::vec(prop_oneof![
            8 => 0x20u8..0x7f,
            1 => Just(b'"'),
            1 => Just(b'\\'),
            1 => any::<u8>(),
        ], 0..40),
        start in 0usize..8,
    ) {
        let start = start.min(bytes.len());
        let expected = (start..bytes.len())
            .find(|&i| STRING_SPECIAL[bytes[i] as usize])
            .unwrap_or(bytes.len());
        prop_assert_eq!(first_special(&bytes, start), expected);
    }

    /// The digit-pair count agrees with a byte-by-byte count.
    #[test]
    fn digit_pairs_matches_bytes(
        w in any::<u64>(),
        digits in proptest::collection::vec(0u8..10, 4),
        mask in 0u8..16,
        near in proptest::collection::vec(prop_oneof![Just(b'/'), Just(b':'), Just(b'+'), Just(b'-'), Just(b'.'), Just(b']'), Just(0xACu8), Just(0xB0u8)], 8),
        which in 0u8..=255,
    ) {
        let mut bytes = w.to_le_bytes();
        for (i, d) in digits.iter().enumerate() {
            if mask >> i & 1 == 1 {
                bytes[2 * i] = b'0' + d;
                bytes[2 * i + 1] = b',';
            }
        }
        // Bytes next to the digits and the comma in value, and with the high bit set.
        for (i, b) in near.iter().enumerate() {
            if which >> i & 1 == 1 {
                bytes[i] = *b;
            }
        }
        let expected = bytes
            .chunks(2)
            .take_while(|c| c[0].is_ascii_digit() && c[1] == b',')
            .count();
        prop_assert_eq!(digit_pairs(u64::from_le_bytes(bytes)), expected);
    }

    /// The fast path agrees with the general parser on every short decimal.
    #[test]
    fn short_decimals_match_the_general_parser(int in 0u32..10, frac in "[0-9]{1,10}", neg in any::<bool>()) {
        let text = format!("{}{int}.{frac}]", if neg { "-" } else { "" });
        if let Some((v, len)) = short_decimal(text.as_bytes()) {
            let expected: f32 = text[..len].parse().unwrap();
            prop_assert_eq!(v.to_bits(), expected.to_bits());
        }
    }

    /// Short decimals read through the fast path are the correctly rounded `f32`, as the
    /// standard library parses it, in arrays and alone.
    #[test]
    fn short_decimals_are_correctly_rounded(
        items in proptest::collection::vec((any::<bool>(), 0u32..10, "[0-9]{1,11}"), 1..20),
    ) {
        let texts: Vec<String> = items
            .iter()
            .map(|(neg, int, frac)| format!("{}{int}.{frac}", if *neg { "-" } else { "" }))
            .collect();
        let expected: Vec<u32> = texts.iter().map(|t| t.parse::<f32>().unwrap().to_bits()).collect();
        let text = format!("[{}]", texts.join(","));
        let mut out = Vec::new();
        Parser::new(text.as_bytes()).f32_array(&mut out).unwrap();
        prop_assert_eq!(out.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), expected, "{}", text);
    }

    /// Every finite f32 printed by Rust's shortest round-trip `Display` (and the dyadic
    /// fractions encoders produce, such as 0.546875 or -0.125) reads back exactly from an
    /// array.
    #[test]
    fn f32_array_reads_rust_shortest_repr(v in proptest::collection::vec(
        prop_oneof![
            any::<f32>().prop_filter("finite", |v| v.is_finite()),
            (-64i32..=64, 0u32..8).prop_map(|(m, k)| m as f32 / (1u32 << k) as f32),
            (0u32..10_000).prop_map(|m| m as f32 / 10_000.0),
        ],
        1..40,
    )) {
        let text = format!(
            "[{}]",
            v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",")
        );
        let mut out = Vec::new();
        Parser::new(text.as_bytes()).f32_array(&mut out).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&out), bits(&v), "{}", text);
    }

    /// Single decimals of every shape (short ones through the fast paths, long ones, with
    /// exponents) read as the correctly rounded `f32` and `f64`, as the standard library
    /// parses them.
    #[test]
    fn single_numbers_are_correctly_rounded(
        text in prop_oneof![
            "-?[0-9]\\.[0-9]{1,17}",
            "-?[1-9][0-9]{0,2}\\.[0-9]{1,20}",
            "-?[0-9]\\.[0-9]{1,6}[eE][+-]?[0-9]{1,2}",
            // Many leading zeros: the most fraction digits the fast paths take, and more.
            "-?0\\.0{6,17}[1-9]{1,3}",
            // Digits just below and above 2^24 and 2^53, the limits of the fast paths.
            ((1u64 << 24) - 64..(1u64 << 24) + 64, 0usize..=10).prop_map(|(m, k)| decimal(m, k)),
            ((1u64 << 53) - 64..(1u64 << 53) + 64, 15usize..=16).prop_map(|(m, k)| decimal(m, k)),
            (1_000_000_000_000_000u64..10_000_000_000_000_000, 15usize..=17).prop_map(|(m, k)| decimal(m, k)),
        ],
    ) {
        let mut p = Parser::new(text.as_bytes());
        let expected = text.parse::<f32>().unwrap();
        if expected.is_finite() {
            prop_assert_eq!(p.f32().unwrap().to_bits(), expected.to_bits(), "{}", text);
        } else {
            prop_assert_eq!(p.f32().unwrap_err().kind, ErrorKind::NonFinite);
        }
        let mut p = Parser::new(text.as_bytes());
        let v = p.f64().unwrap();
        prop_assert_eq!(v.to_bits(), text.parse::<f64>().unwrap().to_bits(), "{}", text);
    }

    /// Integers read as `f64` exactly, whatever their length.
    #[test]
    fn integers_read_exactly_as_f64(v in any::<i64>(), short in -99_999i64..100_000) {
        for v in [v, short] {
            let text = v.to_string();
            let mut p = Parser::new(text.as_bytes());
            prop_assert_eq!(p.f64().unwrap().to_bits(), text.parse::<f64>().unwrap().to_bits());
        }
    }

    /// Every f64 in Rust's shortest round-trip form reads back exactly.
    #[test]
    fn f64_round_trips(v in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
        for text in [v.to_string(), format!("{v:e}"), serde_json::to_string(&v).unwrap()] {
            let mut p = Parser::new(text.as_bytes());
            prop_assert_eq!(p.f64().unwrap().to_bits(), v.to_bits(), "{}", text);
        }
    }

    /// Every f32 written by serde_json (shortest round-trip form) reads back exactly.
    #[test]
    fn f32_round_trips(v in any::<f32>().prop_filter("finite", |v| v.is_finite())) {
        let text = serde_json::to_string(&v).unwrap();
        let mut p = Parser::new(text.as_bytes());
        prop_assert_eq!(p.f32().unwrap().to_bits(), v.to_bits());
    }

    /// Integers written as integers read back exactly.
    #[test]
    fn small_ints_read_exactly(v in -9_999_999i32..=9_999_999) {
        let text = v.to_string();
        let mut p = Parser::new(text.as_bytes());
        prop_assert_eq!(p.f32().unwrap(), v as f32);
    }

    /// The parser agrees with serde_json on which documents are valid JSON.
    #[test]
    fn agrees_with_serde_json(s in "[\\[\\]{}\",:0-9.eE+\\-a-z \\\\]{0,40}") {
        let ours = skip_all(&s).is_ok();
        let theirs = serde_json::from_str::<serde_json::Value>(&s).is_ok();
        prop_assert_eq!(ours, theirs, "{:?}", s);
    }

    /// Arbitrary valid JSON values are accepted.
    #[test]
    fn accepts_valid_json(v in json_value()) {
        let text = serde_json::to_string(&v).unwrap();
        prop_assert!(skip_all(&text).is_ok(), "{}", text);
    }

    /// The fast skip ends where the general one does on valid JSON, compact or pretty, and
    /// takes every compact value whose strings are plain ASCII.
    #[test]
    fn fast_skip_agrees_on_valid_json(v in json_value(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&v).unwrap()
        } else {
            serde_json::to_string(&v).unwrap()
        };
        same_skip(text.as_bytes())?;
        let plain = text.bytes().all(|b| (0x20..0x80).contains(&b) && b != b'\\');
        if plain && !pretty {
            prop_assert_eq!(fast_skip(text.as_bytes(), 0), Some(text.len()), "{}", text);
        }
    }

    /// On damaged records (a byte replaced, removed or inserted, the line cut short) the
    /// skip gives exactly the general skip's result: the same error at the same offset, or
    /// the same end.
    #[test]
    fn fast_skip_agrees_on_damaged_json(
        v in json_value(),
        edits in proptest::collection::vec(
            (0usize..10_000, 0u8..4, prop_oneof![
                4 => proptest::sample::select(b"{}[]\",:-+.0123456789eEtfnul \\\n\t".to_vec()),
                1 => any::<u8>(),
            ]),
            1..4,
        ),
    ) {
        let mut bytes = serde_json::to_vec(&v).unwrap();
        for (at, op, b) in edits {
            let i = at % (bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = b,
                1 if i < bytes.len() => {
                    bytes.remove(i);
                }
                2 => bytes.insert(i, b),
                _ => bytes.truncate(i),
            }
        }
        same_skip(&bytes)?;
    }

    /// Decision records as the collector writes them (state objects of small integers and
    /// short strings), intact or damaged, skip the same through both paths.
    #[test]
    fn fast_skip_agrees_on_state_objects(
        units in proptest::collection::vec((0u32..8, 0u32..6, 0u32..200, -5i32..100), 0..8),
        weather in "[a-z]{0,6}",
        rng in any::<u64>(),
        cut in 0usize..600,
        flip in 0usize..600,
        with in any::<u8>(),
    ) {
        let units: Vec<String> = units
            .iter()
            .map(|(x, y, hp, e)| format!(r#"{{"x":{x},"y":{y},"hp":{hp},"energy":{e}}}"#))
            .collect();
        let text = format!(
            r#"{{"round":0,"turn":5,"actor":[0,2],"queue":[[1,0],[0,1]],"weather":"{weather}","potions":[2,2],"bombs":[1,1],"units":[{}],"alive":true,"next":null,"rng":{rng}}}"#,
            units.join(",")
        );
        prop_assert_eq!(fast_skip(text.as_bytes(), 0), Some(text.len()));
        same_skip(text.as_bytes())?;
        let mut bytes = text.into_bytes();
        if flip < bytes.len() {
            bytes[flip] = with;
        }
        bytes.truncate(bytes.len() - cut.min(bytes.len()) % 7);
        same_skip(&bytes)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Short runs of JSON tokens, valid or not (`[1}`, `01`, `{"a" 1}`, `-`, `1.`, ...),
    /// skip the same through both paths: the fast scan never accepts what the general
    /// one rejects, nor stops elsewhere.
    #[test]
    fn fast_skip_agrees_on_token_soup(tokens in proptest::collection::vec(
        proptest::sample::select(vec![
            "{", "}", "[", "]", ",", ":", "\"a\"", "\"\"", "\"\\n\"", "0", "7", "01", "-", "-0", "1.5", "1.",
            ".5", "1e5", "1E+2", "1e", "2-", "true", "nul", "null", "false", " ", "\u{e9}",
        ]),
        0..14,
    )) {
        same_skip(tokens.concat().as_bytes())?;
    }
}

/// `m / 10^k` written as `D.DDD` with `k` fraction digits (`D` being the digits above).
fn decimal(m: u64, k: usize) -> String {
    let digits = format!("{m:0>width$}", width = k + 1);
    let (int, frac) = digits.split_at(digits.len() - k);
    if k == 0 {
        format!("{int}.0")
    } else {
        format!("{int}.{frac}")
    }
}

/// `skip` and `skip_general` agree on `text` (result and end offset), and an offset from
/// the fast scan is one the general skip accepts.
fn same_skip(text: &[u8]) -> std::result::Result<(), TestCaseError> {
    let mut fast = Parser::new(text);
    let a = fast.skip();
    let mut general = Parser::new(text);
    let b = general.skip_general();
    let shown = String::from_utf8_lossy(text);
    prop_assert_eq!(&a, &b, "{}", shown);
    prop_assert_eq!(fast.offset(), general.offset(), "{}", shown);
    if let Some(end) = fast_skip(text, 0) {
        prop_assert!(b.is_ok(), "{}", shown);
        prop_assert_eq!(end, general.offset(), "{}", shown);
    }
    Ok(())
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,10}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("\\PC{0,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
