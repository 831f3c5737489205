//! Reading and validating one battle record (one line) into column buffers.

use super::columns::{BattleMeta, Effects, Mark, Transitions};
use super::json::{ErrorKind, JsonError, Parser};
use super::reason::{Reason, Reject};
use std::cell::Cell;
use tactician_battle::GameSpec;
use tactician_battle::outcome::{DeclaredEnd, OutcomeRules, ViolationKind};
use tactician_battle::record::FORMAT_V1;

/// The game a dataset is bound to, as records are checked against it: its encoder's hash,
/// sizes and feature ranges, and its outcome rules.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetEncoder {
    /// The feature-spec hash.
    pub hash: String,
    /// Features per decision.
    pub num_features: usize,
    /// Actions in the action space.
    pub num_actions: usize,
    /// Each feature's declared `[min, max]`; a value outside is quarantined.
    pub ranges: Vec<(f32, f32)>,
    /// Feature names, for messages.
    pub feature_names: Vec<String>,
    /// The game's outcome rules.
    pub outcomes: OutcomeRules,
}

impl DatasetEncoder {
    /// The encoder of `game`: its feature spec and outcome rules.
    pub fn for_game(game: &GameSpec) -> Self {
        let spec = game.features();
        Self {
            hash: spec.hash().to_string(),
            num_features: spec.num_features(),
            num_actions: spec.num_actions(),
            ranges: spec.features().iter().map(|f| (f.min, f.max)).collect(),
            feature_names: spec.features().iter().map(|f| f.name.clone()).collect(),
            outcomes: game.outcomes().clone(),
        }
    }
}

/// Where the record came from.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    /// Index of the file in the ingest's file list.
    pub file: u32,
    /// 1-based line number.
    pub line: u64,
}

#[derive(Default)]
struct Decision {
    turn: Option<u64>,
    side: Option<u64>,
    actor: Option<u64>,
    action: Option<i64>,
    done: Option<bool>,
    features: Option<usize>,
    legal: Option<Result<usize, String>>,
}

/// A side as read: `side`, `kind`, `strategy`, `player`.
type SideFields = (Option<u64>, Option<String>, Option<String>, Option<String>);

#[derive(Default)]
struct Header<'a> {
    format: Option<String>,
    battle_id: Option<String>,
    seed: Option<u64>,
    game: Option<(String, String)>,
    encoder_hash: Option<String>,
    encoder_sizes: (Option<u64>, Option<u64>),
    sides: Vec<SideFields>,
    decisions: Option<usize>,
    winner: Option<Option<u64>>,
    victory: Option<String>,
    turns: Option<u64>,
    rounds: Option<u64>,
    alive: Option<[f64; 2]>,
    material: Option<[f64; 2]>,
    final_state: Option<&'a [u8]>,
    setup: Option<&'a [u8]>,
    wall_ms: Option<f64>,
    started: Option<u64>,
}

/// Reads the record in `line`, validates it against `encoder`, and appends its decisions to
/// `out` (tagged with `battle_index`). On any defect `out` is left as it was and the reason is
/// returned.
pub fn parse_battle(
    line: &[u8],
    encoder: &DatasetEncoder,
    source: Source,
    battle_index: u32,
    out: &mut Transitions,
) -> Result<BattleMeta, Reject> {
    let mark = out.mark();
    let field = Cell::new("record");
    let mut scratch = Scratch::default();
    let result = parse(line, out, battle_index, &field, &mut scratch)
        .map_err(|e| json_reject(&e, field.get(), scratch.decisions.len()))
        .and_then(|h| finish(h, encoder, source, out, mark, &scratch));
    match result {
        Ok(meta) => Ok(meta),
        Err(mut reject) => {
            out.rollback(mark);
            if reject.battle_id.is_none() {
                reject.battle_id = scratch.battle_id.take();
            }
            Err(reject)
        }
    }
}

#[derive(Default)]
struct Scratch {
    decisions: Vec<Decision>,
    battle_id: Option<String>,
}

/// The reject of a JSON error in `field`; an error inside a decision names it by index
/// (`decision` is the number of decisions read before it).
fn json_reject(e: &JsonError, field: &str, decision: usize) -> Reject {
    let reason = match e.kind {
        ErrorKind::Eof => Reason::Truncated,
        ErrorKind::NonFinite => Reason::NonFinite,
        ErrorKind::Type(_) => Reason::InvalidValue,
        ErrorKind::Syntax(_) | ErrorKind::TooDeep | ErrorKind::Trailing => Reason::MalformedJson,
    };
    match field.strip_prefix("decisions[]") {
        Some(rest) => Reject::new(reason, format!("decisions[{decision}]{rest}: {e}")),
        None => Reject::new(reason, format!("{field}: {e}")),
    }
}

/// Reads `[a, b]`, each number with `read` (`Parser::f32` for the `f32` fields: a value beyond
/// the `f32` range is then not finite).
fn pair<'a, T: Copy + Default>(
    p: &mut Parser<'a>,
    read: fn(&mut Parser<'a>) -> super::json::Result<T>,
) -> super::json::Result<[T; 2]> {
    let mut v = [T::default(); 2];
    let mut n = 0;
    let at = p.offset();
    p.array(|p| {
        let x = read(p)?;
        if n < 2 {
            v[n] = x;
        }
        n += 1;
        Ok(())
    })?;
    if n != 2 {
        return Err(JsonError {
            kind: ErrorKind::Type("an array of two numbers"),
            at,
        });
    }
    Ok(v)
}

fn opt_string(p: &mut Parser<'_>) -> super::json::Result<Option<String>> {
    Ok(if p.null()? {
        None
    } else {
        Some(p.string()?.into_owned())
    })
}

fn parse<'a>(
    line: &'a [u8],
    out: &mut Transitions,
    battle_index: u32,
    field: &Cell<&'static str>,
    scratch: &mut Scratch,
) -> super::json::Result<Header<'a>> {
    let mut h = Header::default();
    let mut p = Parser::new(line);
    p.object(|p, key| {
        match key {
            b"format" => {
                field.set("format");
                h.format = Some(p.string()?.into_owned());
            }
            b"battle_id" => {
                field.set("battle_id");
                let id = p.string()?.into_owned();
                scratch.battle_id = Some(id.clone());
                h.battle_id = Some(id);
            }
            b"seed" => {
                field.set("seed");
                h.seed = if p.null()? { None } else { Some(p.u64()?) };
            }
            b"game" => {
                field.set("game");
                let (mut name, mut version) = (None, None);
                p.object(|p, k| match k {
                    b"name" => p.string().map(|s| name = Some(s.into_owned())),
                    b"version" => p.string().map(|s| version = Some(s.into_owned())),
                    _ => p.skip(),
                })?;
                if let (Some(n), Some(v)) = (name, version) {
                    h.game = Some((n, v));
                }
            }
            b"encoder" => {
                field.set("encoder");
                p.object(|p, k| match k {
                    b"hash" => p.string().map(|s| h.encoder_hash = Some(s.into_owned())),
                    b"features" => p.u64().map(|v| h.encoder_sizes.0 = Some(v)),
                    b"actions" => p.u64().map(|v| h.encoder_sizes.1 = Some(v)),
                    _ => p.skip(),
                })?;
            }
            b"sides" => {
                field.set("sides");
                h.sides.clear();
                p.array(|p| {
                    let mut s = (None, None, None, None);
                    p.object(|p, k| match k {
                        b"side" => p.u64().map(|v| s.0 = Some(v)),
                        b"kind" => p.string().map(|v| s.1 = Some(v.into_owned())),
                        b"strategy" => opt_string(p).map(|v| s.2 = v),
                        b"player" => opt_string(p).map(|v| s.3 = v),
                        _ => p.skip(),
                    })?;
                    h.sides.push(s);
                    Ok(())
                })?;
            }
            b"decisions" => {
                field.set("decisions");
                if h.decisions.is_some() {
                    return Err(JsonError {
                        kind: ErrorKind::Syntax("a single decisions list"),
                        at: p.offset(),
                    });
                }
                let mut n = 0;
                p.array(|p| {
                    let d = decision(p, out, battle_index, field)?;
                    scratch.decisions.push(d);
                    n += 1;
                    Ok(())
                })?;
                h.decisions = Some(n);
            }
            b"outcome" => {
                field.set("outcome");
                p.object(|p, k| match k {
                    b"winner" => {
                        h.winner = Some(if p.null()? { None } else { Some(p.u64()?) });
                        Ok(())
                    }
                    b"victory" => p.string().map(|s| h.victory = Some(s.into_owned())),
                    b"turns" => p.u64().map(|v| h.turns = Some(v)),
                    b"rounds" => p.u64().map(|v| h.rounds = Some(v)),
                    b"alive" => pair(p, Parser::f64).map(|v| h.alive = Some(v)),
                    b"material" => {
                        pair(p, Parser::f32).map(|v| h.material = Some(v.map(f64::from)))
                    }
                    b"final_state" => {
                        let start = p.offset();
                        p.skip()?;
                        h.final_state = Some(&line[start..p.offset()]);
                        Ok(())
                    }
                    _ => p.skip(),
                })?;
            }
            b"setup" => {
                field.set("setup");
                let start = p.offset();
                p.skip()?;
                h.setup = Some(&line[start..p.offset()]);
            }
            b"wall" => {
                field.set("wall");
                p.object(|p, k| match k {
                    b"wall_ms" => p.f64().map(|v| h.wall_ms = Some(v)),
                    b"started_unix_ms" => p.u64().map(|v| h.started = Some(v)),
                    _ => p.skip(),
                })?;
            }
            _ => {
                field.set("record");
                p.skip()?;
            }
        }
        Ok(())
    })?;
    field.set("record");
    p.finish()?;
    Ok(h)
}

fn decision(
    p: &mut Parser<'_>,
    out: &mut Transitions,
    battle_index: u32,
    field: &Cell<&'static str>,
) -> super::json::Result<Decision> {
    let mut d = Decision::default();
    let (mut round, mut reward, mut us, mut material) = (None, 0.0f32, None, None);
    let mut events: Option<&[u8]> = None;
    let mut effects = None;
    let start_features = out.features.len();
    let start_legal = out.legal.len();
    p.object(|p, key| {
        match key {
            b"turn" => d.turn = Some(p.u64()?),
            b"round" => round = if p.null()? { None } else { Some(p.u64()?) },
            b"side" => d.side = Some(p.u64()?),
            b"actor" => d.actor = Some(p.u64()?),
            b"features" => {
                field.set("decisions[].features");
                out.features.truncate(start_features);
                p.f32_array(&mut out.features)?;
                d.features = Some(out.features.len() - start_features);
            }
            b"legal" => {
                field.set("decisions[].legal");
                out.legal.truncate(start_legal);
                let s = p.string()?;
                let mut bad = None;
                for c in s.chars() {
                    match c {
                        '0' => out.legal.push(0),
                        '1' => out.legal.push(1),
                        other => {
                            bad = Some(other);
                            break;
                        }
                    }
                }
                d.legal = Some(match bad {
                    None => Ok(out.legal.len() - start_legal),
                    Some(c) => {
                        out.legal.truncate(start_legal);
                        Err(format!("character {c:?}"))
                    }
                });
            }
            b"action" => d.action = Some(p.i64()?),
            b"done" => d.done = Some(p.bool()?),
            b"reward" => {
                field.set("decisions[].reward");
                reward = p.f32()?;
            }
            b"events" => {
                field.set("decisions[].events");
                if !p.null()? {
                    match (d.side, d.actor) {
                        // The usual key order: the actor is known, sum the events in one pass.
                        (Some(side), Some(actor)) => effects = Some(read_events(p, side, actor)?),
                        _ => {
                            let start = p.offset();
                            p.skip()?;
                            events = Some(p.raw(start));
                        }
                    }
                }
            }
            b"wall" => {
                field.set("decisions[].wall");
                if !p.null()? {
                    p.object(|p, k| match k {
                        b"decision_us" => p.f64().map(|v| us = Some(v)),
                        _ => p.skip(),
                    })?;
                }
            }
            b"material" => {
                field.set("decisions[].material");
                if !p.null()? {
                    material = Some(pair(p, Parser::f32)?);
                }
            }
            _ => {
                field.set("decisions[]");
                p.skip()?;
            }
        }
        field.set("decisions[]");
        Ok(())
    })?;
    // A missing features or legal field leaves nothing behind; keep the columns aligned for
    // the checks in `finish` (which will reject the record).
    let (side, actor) = (d.side.unwrap_or(0), d.actor.unwrap_or(0));
    if let Some(raw) = events {
        field.set("decisions[].events");
        let mut p = Parser::new(raw);
        effects = Some(read_events(&mut p, side, actor)?);
        p.finish()?;
    }
    out.battle.push(battle_index);
    out.turn
        .push(d.turn.unwrap_or(0).min(u64::from(u32::MAX)) as u32);
    out.round
        .push(round.map(|r: u64| r.min(u64::from(u32::MAX)) as u32));
    out.side.push(side.min(255) as u8);
    out.actor.push(actor.min(u64::from(u32::MAX)) as u32);
    out.action
        .push(d.action.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32);
    out.decision_us.push(us);
    out.reward.push(reward);
    out.done.push(d.done.unwrap_or(false));
    out.material.push(material);
    out.effects.push(effects);
    Ok(d)
}

/// Sums a decision's events into [`Effects`]: events whose `source` (or, for energy, `unit`)
/// is the acting unit `[side, actor]` count as its own; knock-outs of units of the other side
/// count whoever caused them.
fn read_events(p: &mut Parser<'_>, side: u64, actor: u64) -> super::json::Result<Effects> {
    let mut fx = Effects::default();
    p.array(|p| {
        let mut kind = Kind::Other;
        let (mut source, mut unit, mut target) = (None, None, None);
        let mut amount = 0.0;
        p.object(|p, k| match k {
            b"kind" => p.string().map(|s| kind = Kind::of(&s)),
            b"source" => unit_ref(p).map(|v| source = v),
            b"unit" => unit_ref(p).map(|v| unit = v),
            b"target" => unit_ref(p).map(|v| target = v),
            b"amount" => p.f64().map(|v| amount = v),
            _ => p.skip(),
        })?;
        let me = Some([side, actor]);
        let mine = source == me;
        let amt = amount.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32;
        match kind {
            Kind::Damage if mine => fx.damage = fx.damage.saturating_add(amt),
            Kind::Healed if mine => fx.healing = fx.healing.saturating_add(amt),
            Kind::StatusApplied if mine => fx.applied = fx.applied.saturating_add(1),
            Kind::StatusResisted if mine => fx.resisted = fx.resisted.saturating_add(1),
            Kind::ItemUsed if mine => fx.items = fx.items.saturating_add(1),
            Kind::EnergySpent if mine || unit == me => fx.energy = fx.energy.saturating_add(amt),
            Kind::KnockedOut if target.is_some_and(|[s, _]| s != side) => {
                fx.knockouts = fx.knockouts.saturating_add(1)
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(fx)
}

/// The event kinds whose effects are summed (read without allocating the kind string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Damage,
    Healed,
    StatusApplied,
    StatusResisted,
    ItemUsed,
    EnergySpent,
    KnockedOut,
    Other,
}

impl Kind {
    fn of(kind: &str) -> Self {
        match kind {
            "damage" => Self::Damage,
            "healed" => Self::Healed,
            "status_applied" => Self::StatusApplied,
            "status_resisted" => Self::StatusResisted,
            "item_used" => Self::ItemUsed,
            "energy_spent" => Self::EnergySpent,
            "knocked_out" => Self::KnockedOut,
            _ => Self::Other,
        }
    }
}

fn unit_ref(p: &mut Parser<'_>) -> super::json::Result<Option<[u64; 2]>> {
    if p.null()? {
        return Ok(None);
    }
    let mut v = [0u64; 2];
    let mut n = 0;
    let at = p.offset();
    p.array(|p| {
        let x = p.u64()?;
        if n < 2 {
            v[n] = x;
        }
        n += 1;
        Ok(())
    })?;
    if n != 2 {
        return Err(JsonError {
            kind: ErrorKind::Type("a [side, unit] pair"),
            at,
        });
    }
    Ok(Some(v))
}

/// The index of the first value outside its `[min, max]` range.
#[inline]
fn first_out_of_range(values: &[f32], ranges: &[(f32, f32)]) -> Option<usize> {
    // One branch-free pass over the row (the common case has no value out of range), then a
    // search only when one was found.
    let any = values
        .iter()
        .zip(ranges)
        .fold(false, |acc, (x, (lo, hi))| acc | (x < lo) | (x > hi));
    if !any {
        return None;
    }
    values
        .iter()
        .zip(ranges)
        .position(|(x, (lo, hi))| x < lo || x > hi)
}

fn missing(name: &str) -> Reject {
    Reject::new(
        Reason::MissingField,
        format!("required field {name} is missing"),
    )
}

fn finish(
    h: Header<'_>,
    encoder: &DatasetEncoder,
    source: Source,
    out: &mut Transitions,
    mark: Mark,
    scratch: &Scratch,
) -> Result<BattleMeta, Reject> {
    let format = h.format.ok_or_else(|| missing("format"))?;
    if format != FORMAT_V1 {
        return Err(Reject::new(
            Reason::UnsupportedFormat,
            format!("format {format:?} is not {FORMAT_V1:?}"),
        ));
    }
    let battle_id = h.battle_id.ok_or_else(|| missing("battle_id"))?;
    if battle_id.is_empty() {
        return Err(Reject::new(Reason::InvalidValue, "battle_id is empty"));
    }
    let (game, game_version) = h.game.ok_or_else(|| missing("game.name/game.version"))?;
    let hash = h.encoder_hash.ok_or_else(|| missing("encoder.hash"))?;
    if hash != encoder.hash {
        return Err(Reject::new(
            Reason::UnknownEncoder,
            format!(
                "encoder {hash:?} is not this dataset's encoder {:?}",
                encoder.hash
            ),
        ));
    }
    if h.encoder_sizes
        .0
        .is_some_and(|f| f as usize != encoder.num_features)
        || h.encoder_sizes
            .1
            .is_some_and(|a| a as usize != encoder.num_actions)
    {
        return Err(Reject::new(
            Reason::FeatureLength,
            format!(
                "encoder declares {:?} features and {:?} actions; the spec has {} and {}",
                h.encoder_sizes.0, h.encoder_sizes.1, encoder.num_features, encoder.num_actions
            ),
        ));
    }
    if h.sides.is_empty() {
        return Err(missing("sides"));
    }
    if h.sides.len() != 2 {
        return Err(Reject::new(
            Reason::InvalidValue,
            format!("sides lists {} entries, expected 2", h.sides.len()),
        ));
    }
    let mut human = [false; 2];
    let mut player = [String::new(), String::new()];
    for (i, (side, kind, strategy, pid)) in h.sides.iter().enumerate() {
        let side = side.ok_or_else(|| missing("sides[].side"))?;
        if side != i as u64 {
            return Err(Reject::new(
                Reason::InvalidValue,
                format!("sides[{i}].side is {side}, expected {i}"),
            ));
        }
        let kind = kind.as_deref().ok_or_else(|| missing("sides[].kind"))?;
        let (is_human, name) = match kind {
            "bot" => (
                false,
                strategy
                    .as_ref()
                    .ok_or_else(|| missing("sides[].strategy"))?,
            ),
            "human" => (true, pid.as_ref().ok_or_else(|| missing("sides[].player"))?),
            other => {
                return Err(Reject::new(
                    Reason::InvalidValue,
                    format!("sides[{i}].kind is {other:?}, expected \"bot\" or \"human\""),
                ));
            }
        };
        human[i] = is_human;
        player[i] = name.clone();
    }
    let n = h.decisions.ok_or_else(|| missing("decisions"))?;
    if n == 0 {
        return Err(Reject::new(
            Reason::EmptyBattle,
            "the battle has no decisions",
        ));
    }
    let (nf, na) = (encoder.num_features, encoder.num_actions);
    // Legal masks and features were appended in order; walk them from the start of this
    // battle.
    let (mut legal_at, mut features_at) = (mark.legal, mark.features);
    for (i, d) in scratch.decisions.iter().enumerate() {
        let at = |what: &str| format!("decisions[{i}].{what}");
        let turn = d.turn.ok_or_else(|| missing(&at("turn")))?;
        if turn != i as u64 {
            return Err(Reject::new(
                Reason::TurnOrder,
                format!("decision {i} has turn {turn}; turns must run 0, 1, 2, ... without gaps"),
            ));
        }
        let side = d.side.ok_or_else(|| missing(&at("side")))?;
        if side > 1 {
            return Err(Reject::new(
                Reason::InvalidValue,
                format!("{} is {side}, expected 0 or 1", at("side")),
            ));
        }
        d.actor.ok_or_else(|| missing(&at("actor")))?;
        let nfeat = d.features.ok_or_else(|| missing(&at("features")))?;
        if nfeat != nf {
            return Err(Reject::new(
                Reason::FeatureLength,
                format!(
                    "{} has {nfeat} values, the encoder has {nf}",
                    at("features")
                ),
            ));
        }
        let values = &out.features[features_at..features_at + nf];
        features_at += nf;
        if let Some(j) = first_out_of_range(values, &encoder.ranges) {
            let (lo, hi) = encoder.ranges[j];
            return Err(Reject::new(
                Reason::FeatureRange,
                format!(
                    "{}[{j}] ({}) is {}, outside its declared range [{lo}, {hi}]",
                    at("features"),
                    encoder.feature_names[j],
                    values[j]
                ),
            ));
        }
        let nlegal = match &d.legal {
            None => return Err(missing(&at("legal"))),
            Some(Err(why)) => {
                return Err(Reject::new(
                    Reason::MaskInvalid,
                    format!("{} holds {why}", at("legal")),
                ));
            }
            Some(Ok(n)) => *n,
        };
        if nlegal != na {
            return Err(Reject::new(
                Reason::MaskInvalid,
                format!(
                    "{} has {nlegal} entries, the action space has {na}",
                    at("legal")
                ),
            ));
        }
        let mask = &out.legal[legal_at..legal_at + na];
        legal_at += na;
        let action = d.action.ok_or_else(|| missing(&at("action")))?;
        if action < 0 || action as u64 >= na as u64 {
            return Err(Reject::new(
                Reason::ActionOutOfRange,
                format!("{} is {action}, outside 0..{na}", at("action")),
            ));
        }
        if mask[action as usize] != 1 {
            return Err(Reject::new(
                Reason::ActionIllegal,
                format!(
                    "{} is {action}, which its own legal mask forbids",
                    at("action")
                ),
            ));
        }
        let done = d.done.ok_or_else(|| missing(&at("done")))?;
        if done != (i + 1 == n) {
            return Err(Reject::new(
                Reason::OutcomeInconsistent,
                format!("{} is {done} but the battle has {n} decisions", at("done")),
            ));
        }
    }
    let winner = h.winner.ok_or_else(|| missing("outcome.winner"))?;
    let winner = match winner {
        None => None,
        Some(w @ (0 | 1)) => Some(w as u8),
        Some(w) => {
            return Err(Reject::new(
                Reason::InvalidValue,
                format!("outcome.winner is {w}, expected 0, 1 or null"),
            ));
        }
    };
    let victory = h.victory.ok_or_else(|| missing("outcome.victory"))?;
    let turns = h.turns.ok_or_else(|| missing("outcome.turns"))?;
    if turns != n as u64 {
        return Err(Reject::new(
            Reason::OutcomeInconsistent,
            format!("outcome.turns is {turns} but the battle has {n} decisions"),
        ));
    }
    let end = DeclaredEnd {
        winner,
        victory: &victory,
        alive: h.alive,
        material: h.material,
        final_state: h.final_state,
        setup: h.setup,
    };
    encoder.outcomes.check(&end).map_err(|v| {
        let reason = match v.kind {
            ViolationKind::Missing => Reason::MissingField,
            ViolationKind::Invalid => Reason::InvalidValue,
            ViolationKind::Inconsistent => Reason::OutcomeInconsistent,
        };
        Reject::new(reason, v.detail)
    })?;
    debug_assert_eq!(out.len() - mark.rows, n);
    Ok(BattleMeta {
        battle_id,
        seed: h.seed,
        game,
        game_version,
        encoder: hash,
        human,
        player,
        winner,
        victory,
        turns: n as u32,
        rounds: h.rounds.map(|r| r.min(u64::from(u32::MAX)) as u32),
        wall_ms: h.wall_ms,
        started_unix_ms: h.started,
        source_file: source.file,
        line: source.line,
    })
}
