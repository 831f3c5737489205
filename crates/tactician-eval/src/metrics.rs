//! Test-split metrics: agreement with the teacher, top-3, loss, value-head error, and the
//! per-action confusion matrix.

use super::EvalError;
use super::player::masked_top_k;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tactician_formats::model::Mlp;
use tactician_formats::prepared::Split;
use tactician_runtime::masked_argmax;

/// How many confusions each row of the compact matrix lists.
pub const TOP_CONFUSIONS: usize = 3;

/// The value head's error on the test split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueError {
    /// Mean absolute error against the recorded outcome (+1/0/-1).
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Among won and lost examples, the share where the estimate has the outcome's sign.
    pub sign_accuracy: Option<f64>,
}

/// One action's row of the confusion matrix, for the compact view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfusionRow {
    /// The teacher's action.
    pub action: String,
    /// Test examples where the teacher chose it.
    pub support: u64,
    /// Share of those where the model chose it too (recall).
    pub recall: f64,
    /// Examples where the model chose it.
    pub predicted: u64,
    /// Share of those where the teacher chose it too (precision); `None` if never predicted.
    pub precision: Option<f64>,
    /// The model's most frequent other choices when the teacher chose this action.
    pub confused_with: Vec<Confusion>,
}

/// A count of one wrong choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confusion {
    /// The model's action.
    pub action: String,
    /// How often.
    pub count: u64,
}

/// Test-split metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestMetrics {
    /// The split read.
    pub path: std::path::PathBuf,
    /// Number of examples.
    pub examples: usize,
    /// Share of examples where the model's masked argmax is the recorded (teacher's) action:
    /// top-1 accuracy, the agreement with the teacher.
    pub top1: f64,
    /// Share where the teacher's action is among the model's three best legal actions.
    pub top3: f64,
    /// Top-1 weighted by the prepared sample weights.
    pub weighted_top1: f64,
    /// Mean masked cross-entropy of the teacher's action.
    pub loss: f64,
    /// Value-head error, with a value head.
    pub value: Option<ValueError>,
    /// Action names (rows and columns of `matrix`).
    pub actions: Vec<String>,
    /// `matrix[teacher][model]`: counts.
    pub matrix: Vec<Vec<u64>>,
    /// The compact view: rows with support, most supported first.
    pub rows: Vec<ConfusionRow>,
}

/// Per-example result.
struct Row {
    pred: usize,
    top3: bool,
    loss: f64,
    value: Option<f32>,
}

/// Scores `model` on `split` (read from `path`).
pub fn test_metrics(model: &Mlp, split: &Split, path: &Path) -> Result<TestMetrics, EvalError> {
    if split.features != model.meta.inputs || split.actions != model.meta.actions {
        return Err(EvalError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "the split has {} features and {} actions, the model {} and {}",
                split.features, split.actions, model.meta.inputs, model.meta.actions
            ),
        });
    }
    let rows: Vec<Row> = (0..split.rows)
        .into_par_iter()
        .with_min_len(256)
        .map(|r| {
            let x = split.row(r);
            let legal = split.legal_row(r);
            let is_legal = |i: usize| legal[i] == 1;
            let out = model.forward(x);
            let teacher = split.action[r] as usize;
            let pred = masked_argmax(&out.logits, is_legal).unwrap_or(teacher);
            let top3 = masked_top_k(&out.logits, is_legal, 3).contains(&teacher);
            Row {
                pred,
                top3,
                loss: masked_cross_entropy(&out.logits, legal, teacher),
                value: out.value,
            }
        })
        .collect();
    let n = split.rows.max(1) as f64;
    let a = split.actions;
    let mut matrix = vec![vec![0u64; a]; a];
    let (mut hits, mut top3, mut loss) = (0u64, 0u64, 0.0f64);
    let (mut w_hit, mut w_all) = (0.0f64, 0.0f64);
    let (mut abs, mut sq, mut signed, mut sign_ok) = (0.0f64, 0.0f64, 0u64, 0u64);
    for (r, row) in rows.iter().enumerate() {
        let teacher = split.action[r] as usize;
        matrix[teacher][row.pred] += 1;
        let hit = row.pred == teacher;
        hits += u64::from(hit);
        top3 += u64::from(row.top3);
        loss += row.loss;
        let w = f64::from(split.weight[r]);
        w_all += w;
        if hit {
            w_hit += w;
        }
        if let Some(v) = row.value {
            let target = f64::from(split.value[r]);
            let e = f64::from(v) - target;
            abs += e.abs();
            sq += e * e;
            if target != 0.0 {
                signed += 1;
                sign_ok += u64::from((f64::from(v) > 0.0) == (target > 0.0));
            }
        }
    }
    let value = model.value.as_ref().map(|_| ValueError {
        mae: abs / n,
        rmse: (sq / n).sqrt(),
        sign_accuracy: (signed > 0).then(|| sign_ok as f64 / signed as f64),
    });
    let actions = model.meta.action_names.clone();
    let rows = compact(&matrix, &actions);
    Ok(TestMetrics {
        path: path.to_path_buf(),
        examples: split.rows,
        top1: hits as f64 / n,
        top3: top3 as f64 / n,
        weighted_top1: if w_all > 0.0 { w_hit / w_all } else { 0.0 },
        loss: loss / n,
        value,
        actions,
        matrix,
        rows,
    })
}

/// `-log p(teacher)` under the softmax over the legal actions (in f64).
fn masked_cross_entropy(logits: &[f32], legal: &[u8], teacher: usize) -> f64 {
    let max = logits
        .iter()
        .zip(legal)
        .filter(|&(_, &l)| l == 1)
        .map(|(&v, _)| f64::from(v))
        .fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = logits
        .iter()
        .zip(legal)
        .filter(|&(_, &l)| l == 1)
        .map(|(&v, _)| (f64::from(v) - max).exp())
        .sum();
    max + sum.ln() - f64::from(logits[teacher])
}

/// The compact rows of a confusion matrix: actions the teacher chose, most supported first.
pub fn compact(matrix: &[Vec<u64>], actions: &[String]) -> Vec<ConfusionRow> {
    let a = matrix.len();
    let predicted: Vec<u64> = (0..a).map(|j| matrix.iter().map(|r| r[j]).sum()).collect();
    let mut rows: Vec<ConfusionRow> = (0..a)
        .filter_map(|i| {
            let support: u64 = matrix[i].iter().sum();
            if support == 0 {
                return None;
            }
            let mut wrong: Vec<(usize, u64)> = (0..a)
                .filter(|&j| j != i && matrix[i][j] > 0)
                .map(|j| (j, matrix[i][j]))
                .collect();
            wrong.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
            wrong.truncate(TOP_CONFUSIONS);
            Some(ConfusionRow {
                action: actions[i].clone(),
                support,
                recall: matrix[i][i] as f64 / support as f64,
                predicted: predicted[i],
                precision: (predicted[i] > 0).then(|| matrix[i][i] as f64 / predicted[i] as f64),
                confused_with: wrong
                    .into_iter()
                    .map(|(j, count)| Confusion {
                        action: actions[j].clone(),
                        count,
                    })
                    .collect(),
            })
        })
        .collect();
    // Stable sort: equal supports keep action order.
    rows.sort_by_key(|r| std::cmp::Reverse(r.support));
    rows
}
