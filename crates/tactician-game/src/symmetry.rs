//! The game's symmetries: transformations of a battle that change nothing a player can use,
//! on states (for tests and scenario building) and on encoded features (for augmentation).
//!
//! Two kinds hold exactly under the rules (`docs/game.md`):
//!
//! - **Mirroring the rows** (`y → 5 − y`), terrain and units together. No rule depends on the
//!   direction north or south: distances, reach, splash and adjacency only see Manhattan
//!   distances, and `move_north` and `move_south` trade places.
//! - **Permuting the slots of a team.** A unit's slot only names it: turn order follows speed
//!   and the initiative the unit carries with it, and the one effect applied "in slot order"
//!   (splash) gives the same state in any order. Target actions follow their unit.
//!
//! (Swapping the sides and mirroring the columns is a symmetry too, but the encoder's view is
//! already side-relative, so it is the identity on features; `tests/symmetry.rs` checks it.)
//!
//! Seen from the acting unit, a symmetry is a row mirror (or not), a permutation of the own
//! team's slots and a permutation of the enemy's: [`Symmetry`], 2 × 6 × 6 = 72 elements with the
//! identity. [`Symmetry::features`] gives each as a [`FeatureSymmetry`] on the encoder's
//! vectors, built from the feature and action names, and [`Symmetry::apply`] transforms a
//! battle, so the two can be checked against each other (`tests/augment.rs`).

use crate::action::{ACTION_NAMES, Action, NUM_ACTIONS};
use crate::encoder::SkirmishEncoder;
use crate::rules::{HEIGHT, TEAM_SIZE};
use crate::state::{Battle, Setup, Snapshot, StateError, UnitId};
use tactician_battle::symmetry::{FeatureMap, FeatureSymmetry};

/// A slot permutation: `perm[k]` is the new slot of slot `k`.
pub type SlotPerm = [u8; TEAM_SIZE];

/// The six permutations of three slots, identity first.
pub const SLOT_PERMS: [SlotPerm; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

/// One symmetry, seen from the acting unit's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Symmetry {
    /// Mirror the rows: `y → 5 − y`, north ↔ south.
    pub mirror_rows: bool,
    /// New slot of each own (allied) slot.
    pub allies: SlotPerm,
    /// New slot of each enemy slot.
    pub enemies: SlotPerm,
}

impl Symmetry {
    /// The identity.
    pub const IDENTITY: Symmetry = Symmetry {
        mirror_rows: false,
        allies: [0, 1, 2],
        enemies: [0, 1, 2],
    };

    /// All 72 symmetries, the identity first, then the row mirror alone, then the slot
    /// permutations without and with the mirror.
    pub fn all() -> Vec<Symmetry> {
        let mut out = vec![Self::IDENTITY];
        out.push(Symmetry {
            mirror_rows: true,
            ..Self::IDENTITY
        });
        for mirror_rows in [false, true] {
            for allies in SLOT_PERMS {
                for enemies in SLOT_PERMS {
                    let s = Symmetry {
                        mirror_rows,
                        allies,
                        enemies,
                    };
                    if !out.contains(&s) {
                        out.push(s);
                    }
                }
            }
        }
        out
    }

    /// Whether this is the identity.
    pub fn is_identity(&self) -> bool {
        *self == Self::IDENTITY
    }

    /// A short name, e.g. `mirror_rows`, `allies102`, `mirror_rows+allies021+enemies201`.
    pub fn name(&self) -> String {
        let mut parts = Vec::new();
        if self.mirror_rows {
            parts.push("mirror_rows".to_string());
        }
        let perm = |p: &SlotPerm| p.iter().map(|s| char::from(b'0' + s)).collect::<String>();
        if self.allies != [0, 1, 2] {
            parts.push(format!("allies{}", perm(&self.allies)));
        }
        if self.enemies != [0, 1, 2] {
            parts.push(format!("enemies{}", perm(&self.enemies)));
        }
        if parts.is_empty() {
            "identity".into()
        } else {
            parts.join("+")
        }
    }

    /// The image of an action. Out-of-range slots are left alone.
    pub fn action(&self, a: Action) -> Action {
        let al = |s: u8| self.allies.get(usize::from(s)).copied().unwrap_or(s);
        let en = |s: u8| self.enemies.get(usize::from(s)).copied().unwrap_or(s);
        match a {
            Action::MoveNorth if self.mirror_rows => Action::MoveSouth,
            Action::MoveSouth if self.mirror_rows => Action::MoveNorth,
            Action::Attack(s) => Action::Attack(en(s)),
            Action::SkillEnemy(s) => Action::SkillEnemy(en(s)),
            Action::Bomb(s) => Action::Bomb(en(s)),
            Action::SkillAlly(s) => Action::SkillAlly(al(s)),
            Action::Potion(s) => Action::Potion(al(s)),
            other => other,
        }
    }

    /// The image of a setup and snapshot when side `side` is the acting (own) side: rows
    /// mirrored if asked, side `side`'s slots permuted by `allies` and the other side's by
    /// `enemies`.
    pub fn apply_parts(&self, side: u8, setup: &Setup, snap: &Snapshot) -> (Setup, Snapshot) {
        let perms = if side == 0 {
            [self.allies, self.enemies]
        } else {
            [self.enemies, self.allies]
        };
        let map_id = |u: UnitId| {
            UnitId::new(
                u.side(),
                perms[usize::from(u.side() & 1)][usize::from(u.slot())],
            )
        };
        let mut out_setup = setup.clone();
        if self.mirror_rows {
            out_setup.map.reverse();
        }
        for (s, perm) in perms.iter().enumerate() {
            for (k, &to) in perm.iter().enumerate() {
                let to = usize::from(to);
                out_setup.teams[s][to] = setup.teams[s][k];
                out_setup.initiative[s][to] = setup.initiative[s][k];
            }
        }
        let mut out_snap = snap.clone();
        for id in UnitId::all() {
            if let Some(u) = snap.units.get(id.index()) {
                let mut u = *u;
                if self.mirror_rows {
                    u.y = (HEIGHT as u8 - 1).saturating_sub(u.y);
                }
                if let Some(slot) = out_snap.units.get_mut(map_id(id).index()) {
                    *slot = u;
                }
            }
        }
        out_snap.actor = snap.actor.map(map_id);
        out_snap.queue = snap.queue.iter().copied().map(map_id).collect();
        (out_setup, out_snap)
    }

    /// The image of a battle, seen from its actor's side (side 0 once it is over).
    pub fn apply(&self, battle: &Battle) -> Result<Battle, StateError> {
        let side = battle.actor().map_or(0, |a| a.side());
        let (setup, snap) = self.apply_parts(side, &battle.setup(), &battle.snapshot());
        Battle::from_snapshot(&setup, &snap)
    }

    /// This symmetry on [`SkirmishEncoder`]'s feature vectors and action indices: encoding the
    /// image of a battle equals applying it to the battle's encoding.
    pub fn features(&self) -> FeatureSymmetry {
        let spec = SkirmishEncoder::feature_spec();
        let names: Vec<&str> = spec.features().iter().map(|f| f.name.as_str()).collect();
        // By name, so that all 71 symmetries take a millisecond, not a linear search per
        // feature (5 ms per `prepare`).
        let index: std::collections::HashMap<&str, usize> =
            names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let mut maps: Vec<Option<FeatureMap>> = vec![None; names.len()];
        for (j, name) in names.iter().enumerate() {
            let image = self.feature_name(name);
            let i = *index
                .get(image.as_str())
                .unwrap_or_else(|| panic!("feature {name}: its image {image} is not a feature"));
            let (scale, offset) = self.feature_affine(name);
            assert!(maps[i].is_none(), "two features map onto {image}");
            maps[i] = Some(FeatureMap::affine(j, scale, offset));
        }
        let maps = maps
            .into_iter()
            .map(|m| m.expect("a bijection on names"))
            .collect();
        let actions = (0..NUM_ACTIONS)
            .map(|a| {
                self.action(Action::from_index(a).expect("in range"))
                    .index()
            })
            .collect();
        FeatureSymmetry::new(self.name(), maps, actions).expect("a valid symmetry")
    }

    /// The name of the feature that feature `name` becomes.
    fn feature_name(&self, name: &str) -> String {
        let mut name = name.to_string();
        // Per-slot features: `ally{k}_...` and `enemy{k}_...`.
        for (prefix, perm) in [("ally", &self.allies), ("enemy", &self.enemies)] {
            if let Some(rest) = name.strip_prefix(prefix) {
                let mut chars = rest.chars();
                if let (Some(d @ '0'..='2'), Some('_')) = (chars.next(), chars.next()) {
                    let k = usize::from(d as u8 - b'0');
                    name = format!("{prefix}{}_{}", perm[k], &rest[2..]);
                    break;
                }
            }
        }
        // Per-action features: `{action name}_...` (longest action name first).
        if let Some((a, rest)) = ACTION_NAMES
            .iter()
            .enumerate()
            .filter(|(_, n)| name.starts_with(*n) && name[n.len()..].starts_with('_'))
            .max_by_key(|(_, n)| n.len())
            .map(|(i, n)| (i, name[n.len()..].to_string()))
        {
            let image = self.action(Action::from_index(a).expect("in range"));
            return format!("{}{rest}", image.name());
        }
        if self.mirror_rows {
            name = swap_words(&name, "north", "south");
        }
        name
    }

    /// Scale and offset of feature `name` under this symmetry.
    fn feature_affine(&self, name: &str) -> (f32, f32) {
        if !self.mirror_rows {
            return (1.0, 0.0);
        }
        if name.ends_with("_dy") {
            (-1.0, 0.0)
        } else if name == "self_y" {
            (-1.0, (HEIGHT as f32 - 1.0) / crate::encoder::Y_SCALE)
        } else {
            (1.0, 0.0)
        }
    }
}

/// `s` with every `a` replaced by `b` and every `b` by `a`.
fn swap_words(s: &str, a: &str, b: &str) -> String {
    s.replace(a, "\u{0}").replace(b, a).replace('\u{0}', b)
}

impl SkirmishEncoder {
    /// The game's symmetries on this encoder's features, for augmentation: the 71 non-identity
    /// elements of [`Symmetry::all`] (row mirror × own-slot permutations × enemy-slot
    /// permutations), the row mirror alone first. Each maps a state's features and its legal
    /// actions to those of a state that plays the same, with the mirrored outcome. A consumer
    /// that wants a smaller multiplier can take a prefix or a seeded sample.
    pub fn symmetries() -> Vec<FeatureSymmetry> {
        Symmetry::all()
            .into_iter()
            .filter(|s| !s.is_identity())
            .map(|s| s.features())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_has_72_distinct_elements() {
        let all = Symmetry::all();
        assert_eq!(all.len(), 72);
        assert!(all[0].is_identity());
        assert_eq!(all[1].name(), "mirror_rows");
        let mut names: Vec<String> = all.iter().map(|s| s.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 72);
        assert_eq!(SkirmishEncoder::symmetries().len(), 71);
    }

    #[test]
    fn actions_map_as_a_permutation() {
        for s in Symmetry::all() {
            let f = s.features();
            let mut seen = [false; NUM_ACTIONS];
            for a in 0..NUM_ACTIONS {
                seen[f.apply_action(a)] = true;
            }
            assert!(seen.iter().all(|&x| x), "{}", s.name());
        }
        let m = Symmetry {
            mirror_rows: true,
            allies: [2, 0, 1],
            enemies: [1, 0, 2],
        };
        assert_eq!(m.action(Action::MoveNorth), Action::MoveSouth);
        assert_eq!(m.action(Action::MoveForward), Action::MoveForward);
        assert_eq!(m.action(Action::Potion(0)), Action::Potion(2));
        assert_eq!(m.action(Action::Bomb(0)), Action::Bomb(1));
    }

    #[test]
    fn swaps_words_both_ways() {
        assert_eq!(swap_words("north_open", "north", "south"), "south_open");
        assert_eq!(swap_words("south_open", "north", "south"), "north_open");
        assert_eq!(swap_words("back_open", "north", "south"), "back_open");
    }
}
