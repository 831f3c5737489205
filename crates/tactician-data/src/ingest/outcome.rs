//! Checking a battle's declared outcome against what the record says of its end.

use super::reason::{Reason, Reject};

fn inconsistent(detail: String) -> Reject {
    Reject::new(Reason::OutcomeInconsistent, detail)
}

/// Checks the declared `winner`/`victory` against the optional summary of the end (`alive`
/// units and `material` per side) and, for the built-in game, against its final state, which
/// the engine must accept as a finished battle of the record's setup.
///
/// Generic rules (any game): an `elimination` needs a winner, a loser with no units alive and a
/// winner with some; a `points` win needs the winner's material above the loser's; a draw has
/// no winner and cannot be an elimination.
pub fn check(
    winner: Option<u8>,
    victory: &str,
    alive: Option<[f64; 2]>,
    material: Option<[f64; 2]>,
    final_state: Option<&[u8]>,
    setup: Option<&[u8]>,
    builtin: bool,
) -> Result<(), Reject> {
    if victory.is_empty() {
        return Err(Reject::new(
            Reason::InvalidValue,
            "outcome.victory is empty",
        ));
    }
    let mut alive = alive;
    let mut material = material;
    if builtin && let Some(raw) = final_state {
        let setup = setup.ok_or_else(|| {
            Reject::new(
                Reason::MissingField,
                "required field setup is missing (the final state cannot be checked without it)",
            )
        })?;
        let setup: tactician_game::Setup = serde_json::from_slice(setup).map_err(|e| {
            Reject::new(
                Reason::InvalidValue,
                format!("setup is not a game setup: {e}"),
            )
        })?;
        let snap: tactician_game::Snapshot = serde_json::from_slice(raw).map_err(|e| {
            Reject::new(
                Reason::InvalidValue,
                format!("outcome.final_state is not a game state: {e}"),
            )
        })?;
        let end = tactician_game::Battle::from_snapshot(&setup, &snap).map_err(|e| {
            inconsistent(format!(
                "outcome.final_state is not a reachable end of the battle: {e}"
            ))
        })?;
        let Some(o) = end.outcome() else {
            return Err(inconsistent("outcome.final_state is not finished".into()));
        };
        if o.winner != winner || o.victory.name() != victory {
            return Err(inconsistent(format!(
                "the outcome says {winner:?}/{victory} but the final state says {:?}/{}",
                o.winner,
                o.victory.name()
            )));
        }
        let count = [0, 1].map(|s| end.alive_count(s) as f64);
        if alive.is_some_and(|a| a != count) {
            return Err(inconsistent(format!(
                "outcome.alive {alive:?} but the final state has {count:?} units alive"
            )));
        }
        alive = Some(count);
        let health = [0, 1].map(|s| end.health_fraction(s));
        // Material is read as f32 and is the built-in game's remaining share of health.
        if material.is_some_and(|m| m != health.map(f64::from)) {
            return Err(inconsistent(format!(
                "outcome.material {material:?} but the final state has {health:?}"
            )));
        }
        material = Some(health.map(f64::from));
    }
    match (victory, winner) {
        ("elimination", None) => {
            return Err(inconsistent("an elimination without a winner".into()));
        }
        ("elimination", Some(w)) => {
            if let Some(a) = alive {
                let (w, l) = (w as usize, 1 - w as usize);
                if a[l] != 0.0 || a[w] <= 0.0 {
                    return Err(inconsistent(format!(
                        "side {w} won by elimination but {} of the loser's units are alive and {} of the winner's",
                        a[l], a[w]
                    )));
                }
            }
        }
        ("points", Some(w)) => {
            if let Some(m) = material {
                let (w, l) = (w as usize, 1 - w as usize);
                if m[w] <= m[l] {
                    return Err(inconsistent(format!(
                        "side {w} won on points with material {} against {}",
                        m[w], m[l]
                    )));
                }
            }
        }
        _ => {}
    }
    if builtin && !matches!(victory, "elimination" | "points" | "timeout") {
        return Err(Reject::new(
            Reason::InvalidValue,
            format!("victory {victory:?} does not exist in the built-in game"),
        ));
    }
    if builtin && (victory == "timeout") != winner.is_none() {
        return Err(inconsistent(format!(
            "victory {victory} with winner {winner:?}"
        )));
    }
    Ok(())
}
