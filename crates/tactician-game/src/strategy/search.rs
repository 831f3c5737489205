//! The search player: depth-limited expectiminimax over the simulator.

use super::Strategy;
use super::eval::{Weights, evaluate};
use crate::action::{Action, Legal};
use crate::rng::SplitMix64;
use crate::state::Battle;

/// Plies searched by default: the own decision and the next unit's reply.
pub const DEFAULT_DEPTH: u8 = 2;

/// Deepest search allowed: each ply multiplies the work by about fifteen.
pub const MAX_DEPTH: u8 = 4;

/// Two choices whose values differ by less than this many health points count as tied; the
/// lowest action index among the best wins, so near-equal options (equal up to rounding)
/// resolve the same way every time.
const TIE: f32 = 0.01;

/// Default near-tie margin, in health points: actions whose searched value is within this of
/// the best are near-equal, and the one-ply value (the immediate, expected result of the
/// action alone) decides between them. A difference this small is below what the evaluation
/// can judge, and deciding it by the one-ply value makes the choice a stable function of what
/// the encoder shows (it carries every action's one-ply value), so a policy can learn it.
pub const NEAR_TIE: f32 = 2.0;

/// Looks ahead through the next decisions and takes expectations over the dice.
///
/// For every legal action it plays the action under each of its possible rolls (hit, miss,
/// critical; stun or not) with [`Battle::chances`] and [`Battle::step_with_roll`], lets the next
/// units choose in turn (own units maximise, enemy units minimise the same evaluation), and
/// scores the positions at the horizon with the evaluation in [`Weights`]. It never draws from
/// the battle's generator: the copy it searches gets a fixed one, so its choice depends only on
/// the visible state, and the same state always gives the same choice: among actions within
/// [`NEAR_TIE`] of the best searched value the best one-ply value wins, and exact ties go to the
/// lowest action index. The seed is accepted for uniformity and unused.
#[derive(Debug, Clone)]
pub struct Search {
    depth: u8,
    weights: Weights,
    near_tie: f32,
}

impl Search {
    /// A search player with the default depth and weights.
    pub fn new(_seed: u64) -> Self {
        Self::with(DEFAULT_DEPTH, Weights::default())
    }

    /// A search player with its own depth (clamped to `1..=MAX_DEPTH`) and weights, for
    /// experiments.
    pub fn with(depth: u8, weights: Weights) -> Self {
        Self {
            depth: depth.clamp(1, MAX_DEPTH),
            weights,
            near_tie: NEAR_TIE,
        }
    }

    /// The same player with another near-tie margin (see [`NEAR_TIE`]; 0 keeps only exact ties).
    pub fn with_near_tie(mut self, margin: f32) -> Self {
        self.near_tie = margin.max(0.0);
        self
    }

    /// The one-ply value of every legal action for the acting unit, in action-index order:
    /// the expected evaluation right after the action, over its roll outcomes, with no reply.
    pub fn one_ply_values(&self, battle: &Battle, legal: Legal) -> Vec<(Action, f32)> {
        let Some(me) = battle.actor() else {
            return Vec::new();
        };
        let mut root = *battle;
        root.rng = SplitMix64::new(0);
        let ctx = Ctx {
            side: me.side(),
            weights: &self.weights,
        };
        legal.iter().map(|a| (a, ctx.expect(&root, a, 0))).collect()
    }

    /// The value of every legal action for the acting unit, in action-index order.
    pub fn action_values(&self, battle: &Battle, legal: Legal) -> Vec<(Action, f32)> {
        let Some(me) = battle.actor() else {
            return Vec::new();
        };
        let mut root = *battle;
        // The search must not see the dice to come: replace the generator with a fixed one.
        root.rng = SplitMix64::new(0);
        let ctx = Ctx {
            side: me.side(),
            weights: &self.weights,
        };
        legal
            .iter()
            .map(|a| (a, ctx.expect(&root, a, self.depth - 1)))
            .collect()
    }
}

impl Strategy for Search {
    fn name(&self) -> &'static str {
        "search"
    }

    fn choose(&mut self, battle: &Battle, legal: Legal) -> Action {
        if legal.count() <= 1 {
            return legal.iter().next().unwrap_or(Action::Wait);
        }
        let values = self.action_values(battle, legal);
        let top = values.iter().map(|v| v.1).fold(f32::NEG_INFINITY, f32::max);
        let margin = self.near_tie.max(TIE);
        let near: Vec<Action> = values
            .iter()
            .filter(|v| v.1 >= top - margin)
            .map(|v| v.0)
            .collect();
        if near.len() <= 1 || self.depth == 1 {
            return values
                .iter()
                .find(|v| v.1 >= top - TIE)
                .map_or(Action::Wait, |v| v.0);
        }
        // Near-equal after the search: the better immediate result decides.
        let mut near_legal = Legal(0);
        for &a in &near {
            near_legal.insert(a);
        }
        let one = self.one_ply_values(battle, near_legal);
        let best = one.iter().map(|v| v.1).fold(f32::NEG_INFINITY, f32::max);
        one.iter()
            .find(|v| v.1 >= best - TIE)
            .map_or(near[0], |v| v.0)
    }
}

struct Ctx<'a> {
    side: u8,
    weights: &'a Weights,
}

impl Ctx<'_> {
    /// Expected value of playing `action` in `state`, then searching `depth` more plies.
    fn expect(&self, state: &Battle, action: Action, depth: u8) -> f32 {
        let mut total = 0.0;
        for (p, roll) in state.chances(action).iter() {
            if p <= 0.0 {
                continue;
            }
            let mut next = *state;
            if next.step_with_roll(action, roll, &mut ()).is_err() {
                // Unreachable for legal actions; scoring it as a loss keeps it unchosen.
                return -self.weights.win;
            }
            total += p * self.value(&next, depth);
        }
        total
    }

    /// Value of `state` with `depth` plies left: the evaluation at the horizon, else the best
    /// action of the unit to act (best for its own side).
    fn value(&self, state: &Battle, depth: u8) -> f32 {
        let Some(actor) = state.actor() else {
            return evaluate(state, self.side, self.weights);
        };
        if depth == 0 {
            return evaluate(state, self.side, self.weights);
        }
        let ours = actor.side() == self.side;
        let mut best = if ours {
            f32::NEG_INFINITY
        } else {
            f32::INFINITY
        };
        for a in state.legal().iter() {
            let v = self.expect(state, a, depth - 1);
            best = if ours { best.max(v) } else { best.min(v) };
        }
        best
    }
}
