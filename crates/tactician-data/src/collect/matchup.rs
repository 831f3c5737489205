//! Matchup specs (`random:aggressive,search:*`, `all`) and the battle schedule.

use serde::{Deserialize, Serialize};
use std::fmt;
use tactician_game::strategy::{self, UnknownStrategy};

/// Two strategies that play each other. Battles of a matchup alternate which one plays side 0.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Matchup {
    /// The first strategy named (side 0 in even battles of the matchup).
    pub a: String,
    /// The second strategy named (side 0 in odd battles of the matchup).
    pub b: String,
}

impl Matchup {
    /// Whether both sides play the same strategy.
    pub fn is_mirror(&self) -> bool {
        self.a == self.b
    }

    fn same_pair(&self, other: &Matchup) -> bool {
        (self.a == other.a && self.b == other.b) || (self.a == other.b && self.b == other.a)
    }
}

impl fmt::Display for Matchup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.a, self.b)
    }
}

/// Why a matchup spec cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MatchupError {
    /// The spec names no matchup.
    #[error("the matchup list is empty; write e.g. `random:aggressive,search:*` or `all`")]
    Empty,
    /// An item of the spec is not of a known form.
    #[error("matchup {item:?} is malformed: {reason}; write `a:b`, `a:*` or `all`")]
    Malformed {
        /// The offending item.
        item: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A strategy name is not registered.
    #[error("in matchup {item:?}")]
    Unknown {
        /// The item that names it.
        item: String,
        /// The unknown name, with the known ones.
        #[source]
        source: UnknownStrategy,
    },
}

/// Parses a matchup spec: comma-separated items, each one of
///
/// - `a:b`: strategy `a` against strategy `b` (`a:a` is self-play);
/// - `a:*` or `*:a`: `a` against every registered strategy, itself included;
/// - `all` or `*:*`: every pair of registered strategies, self-play included (a round robin).
///
/// Spaces around items and names are ignored. Matchups are kept in order of first appearance;
/// `a:b` and `b:a` are the same matchup (both side assignments are played anyway), so repeats
/// are dropped.
pub fn parse_matchups(spec: &str) -> Result<Vec<Matchup>, MatchupError> {
    let mut out: Vec<Matchup> = Vec::new();
    let mut push = |m: Matchup| {
        if !out.iter().any(|o| o.same_pair(&m)) {
            out.push(m);
        }
    };
    let mut any = false;
    for raw in spec.split(',') {
        let item = raw.trim();
        if item.is_empty() {
            if spec.trim().is_empty() {
                continue;
            }
            return Err(malformed(item, "empty item (stray comma?)"));
        }
        any = true;
        if item == "all" {
            for_all_pairs(&mut push);
            continue;
        }
        let mut parts = item.split(':');
        let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
            let reason = if item.contains(':') {
                "more than one `:`"
            } else {
                "no `:` between the two strategies"
            };
            return Err(malformed(item, reason));
        };
        let (a, b) = (a.trim(), b.trim());
        if a.is_empty() || b.is_empty() {
            return Err(malformed(item, "a strategy name is missing"));
        }
        match (a, b) {
            ("*", "*") => for_all_pairs(&mut push),
            ("*", x) | (x, "*") => {
                let x = known(item, x)?;
                for &other in strategy::NAMES {
                    push(Matchup {
                        a: x.clone(),
                        b: other.to_string(),
                    });
                }
            }
            (a, b) => push(Matchup {
                a: known(item, a)?,
                b: known(item, b)?,
            }),
        }
    }
    if !any {
        return Err(MatchupError::Empty);
    }
    Ok(out)
}

fn malformed(item: &str, reason: &'static str) -> MatchupError {
    MatchupError::Malformed {
        item: item.to_string(),
        reason,
    }
}

fn known(item: &str, name: &str) -> Result<String, MatchupError> {
    strategy::by_name(name, 0)
        .map(|_| name.to_string())
        .map_err(|source| MatchupError::Unknown {
            item: item.to_string(),
            source,
        })
}

fn for_all_pairs(push: &mut impl FnMut(Matchup)) {
    for (i, &a) in strategy::NAMES.iter().enumerate() {
        for &b in &strategy::NAMES[i..] {
            push(Matchup {
                a: a.to_string(),
                b: b.to_string(),
            });
        }
    }
}

/// Where battle `index` of a run goes: its matchup and which strategy plays side 0.
///
/// Battles are dealt to matchups in turn (battle `i` to matchup `i mod M`), so every matchup
/// gets `⌊N/M⌋` or `⌈N/M⌉` battles and any prefix of a run is balanced; within a matchup, `a`
/// and `b` alternate on side 0.
pub fn assignment(index: u64, matchups: &[Matchup]) -> (usize, [&str; 2]) {
    let m = matchups.len() as u64;
    let which = (index % m) as usize;
    let mu = &matchups[which];
    let sides = if (index / m) % 2 == 0 {
        [mu.a.as_str(), mu.b.as_str()]
    } else {
        [mu.b.as_str(), mu.a.as_str()]
    };
    (which, sides)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(spec: &str) -> Vec<String> {
        parse_matchups(spec)
            .unwrap()
            .iter()
            .map(|m| m.to_string())
            .collect()
    }

    #[test]
    fn parses_pairs_stars_and_all() {
        assert_eq!(pairs("random:random"), ["random:random"]);
        assert_eq!(
            pairs(" random : aggressive ,aggressive:random"),
            ["random:aggressive"]
        );
        let n = strategy::NAMES.len();
        let star = pairs("random:*");
        assert_eq!(star.len(), n);
        assert!(star.iter().all(|s| s.starts_with("random:")));
        assert_eq!(pairs("*:random"), star);
        assert_eq!(pairs("all").len(), n * (n + 1) / 2);
        assert_eq!(pairs("*:*"), pairs("all"));
        assert_eq!(pairs("random:random,all").len(), n * (n + 1) / 2);
    }

    #[test]
    fn rejects_bad_specs_with_reasons() {
        assert_eq!(parse_matchups(""), Err(MatchupError::Empty));
        assert_eq!(parse_matchups("  "), Err(MatchupError::Empty));
        for bad in [
            "random",
            "random:",
            ":random",
            "a:b:c",
            "random:random,",
            ",random:random",
        ] {
            let e = parse_matchups(bad).unwrap_err();
            assert!(matches!(e, MatchupError::Malformed { .. }), "{bad}: {e}");
        }
        let e = parse_matchups("random:nonesuch").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("nonesuch") && msg.contains("random"), "{msg}");
        let e = parse_matchups("nonesuch:*").unwrap_err();
        assert!(matches!(e, MatchupError::Unknown { .. }));
    }

    #[test]
    fn assignment_is_balanced_over_matchups_and_sides() {
        let ms = parse_matchups("all").unwrap();
        let n = 1000u64;
        let mut count = vec![[0u32; 2]; ms.len()];
        for i in 0..n {
            let (m, sides) = assignment(i, &ms);
            let flipped = sides[0] != ms[m].a;
            count[m][usize::from(flipped)] += 1;
        }
        let per: Vec<u32> = count.iter().map(|c| c[0] + c[1]).collect();
        assert!(per.iter().max().unwrap() - per.iter().min().unwrap() <= 1);
        for (m, c) in count.iter().enumerate() {
            if !ms[m].is_mirror() {
                assert!(c[0].abs_diff(c[1]) <= 1, "{}: {c:?}", ms[m]);
            }
        }
    }
}
