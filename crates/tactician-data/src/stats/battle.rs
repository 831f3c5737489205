//! One battle's decisions, gathered from the transitions table, and the names they refer to.

use std::collections::HashMap;

/// What a decision caused (the acting unit's own events), `None` where the log had no events.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Effects {
    pub damage: Option<i32>,
    pub healing: Option<i32>,
    pub applied: Option<u16>,
    pub resisted: Option<u16>,
    pub knockouts: Option<u16>,
    pub items: Option<u16>,
    pub energy: Option<i32>,
}

/// The columns of one transitions row that statistics use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Decision {
    pub turn: u32,
    pub side: u8,
    pub player: u32,
    pub action: u32,
    pub decision_us: Option<f64>,
    /// Material of (acting side, enemy) before the decision.
    pub material: Option<[f32; 2]>,
    pub effects: Effects,
}

impl Decision {
    /// Side 0's material advantage before the decision.
    pub fn advantage0(&self) -> Option<f64> {
        let [own, enemy] = self.material?;
        let own_lead = f64::from(own) - f64::from(enemy);
        Some(if self.side == 0 { own_lead } else { -own_lead })
    }
}

/// One whole battle: its decisions in turn order, who played each side, who won.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BattleView {
    pub id: String,
    pub rows: Vec<Decision>,
    /// The player of each side, if that side made a decision.
    pub players: [Option<u32>; 2],
    /// The winning side, from the rows' `outcome`; `None` for a draw.
    pub winner: Option<u8>,
    /// Per row, the change of side 0's advantage from this decision to the next one of the
    /// battle; `None` for the last decision or where material is unknown.
    pub swing: Vec<Option<f64>>,
}

impl BattleView {
    /// An empty battle, to be filled with [`BattleView::reset`].
    pub fn new() -> Self {
        Self {
            id: String::new(),
            rows: Vec::new(),
            players: [None, None],
            winner: None,
            swing: Vec::new(),
        }
    }

    /// Starts battle `id`, keeping the buffers.
    pub fn reset(&mut self, id: &str) {
        self.id.clear();
        self.id.push_str(id);
        self.rows.clear();
        self.players = [None, None];
        self.winner = None;
        self.swing.clear();
    }

    /// Adds the next decision; `outcome` is the row's outcome for the acting side.
    pub fn push(&mut self, d: Decision, outcome: f32) {
        let side = usize::from(d.side & 1);
        self.players[side].get_or_insert(d.player);
        if outcome > 0.0 {
            self.winner = Some(d.side);
        } else if outcome < 0.0 {
            self.winner = Some(1 - d.side);
        }
        self.rows.push(d);
    }

    /// Computes the swings once every row is in.
    pub fn finish(&mut self) {
        self.swing.clear();
        let rows = &self.rows;
        self.swing.extend(rows.iter().enumerate().map(|(i, d)| {
            let next = rows.get(i + 1)?;
            Some(next.advantage0()? - d.advantage0()?)
        }));
    }

    /// +1, 0 or -1: how the battle ended for `side`.
    pub fn outcome(&self, side: u8) -> i8 {
        match self.winner {
            None => 0,
            Some(w) if w == side => 1,
            Some(_) => -1,
        }
    }

    /// The phase (0 early, 1 mid, 2 late) of row `i`: the thirds of the battle by turn index.
    pub fn phase(&self, i: usize) -> usize {
        let n = self.rows.len().max(1);
        (3 * i / n).min(2)
    }
}

/// Interned player names.
#[derive(Debug, Default, Clone)]
pub(crate) struct Players {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Players {
    /// The number of `name`, adding it if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }

    /// The name of player `i`.
    pub fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", String::as_str)
    }

    /// How many players there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }
}

/// The action space: names, and each action's type (its name without a trailing `_N`).
#[derive(Debug, Clone)]
pub(crate) struct Actions {
    pub names: Vec<String>,
    pub types: Vec<String>,
    /// `type_of[action]` indexes `types`.
    pub type_of: Vec<u32>,
}

impl Actions {
    /// The action space with these names.
    pub fn new(names: &[String]) -> Self {
        let mut types: Vec<String> = Vec::new();
        let mut type_of = Vec::with_capacity(names.len());
        for name in names {
            let t = action_type(name);
            let i = match types.iter().position(|x| x == t) {
                Some(i) => i,
                None => {
                    types.push(t.to_string());
                    types.len() - 1
                }
            };
            type_of.push(i as u32);
        }
        Self {
            names: names.to_vec(),
            types,
            type_of,
        }
    }

    /// The type index of `action` (which must be in range).
    pub fn type_of(&self, action: u32) -> usize {
        self.type_of.get(action as usize).map_or(0, |&t| t as usize)
    }

    /// The name of `action`.
    pub fn name(&self, action: u32) -> &str {
        self.names.get(action as usize).map_or("?", String::as_str)
    }
}

/// An action's type: its name without a trailing `_N` slot (`attack_enemy_2` → `attack_enemy`).
pub fn action_type(name: &str) -> &str {
    match name.rsplit_once('_') {
        Some((head, slot))
            if !head.is_empty() && !slot.is_empty() && slot.bytes().all(|b| b.is_ascii_digit()) =>
        {
            head
        }
        _ => name,
    }
}
