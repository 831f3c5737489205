//! Training settings (the `[train]` section of the pipeline's config) and their validation.

use crate::error::TrainError;
use serde::{Deserialize, Serialize};

/// A hidden layer's activation (the model format's).
pub use tactician_formats::model::Activation;

/// The derivative of an activation, for back-propagation.
pub trait Derivative {
    /// The derivative at the point whose activation is `y`, from `y` (the activation's
    /// OUTPUT).
    fn derivative_from_output(self, y: f32) -> f32;
}

impl Derivative for Activation {
    #[inline]
    fn derivative_from_output(self, y: f32) -> f32 {
        match self {
            Self::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Self::Relu6 => {
                if y > 0.0 && y < 6.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Self::Tanh => 1.0 - y * y,
        }
    }
}

/// The optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam; a weight decay is added to the gradient (L2).
    Adam,
    /// AdamW: the weight decay is applied to the weights directly (decoupled).
    Adamw,
}

/// The learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// The same rate throughout.
    Constant,
    /// Multiplied by `step_gamma` every `step_epochs` epochs.
    Step,
    /// Linear warm-up over `warmup_epochs`, then cosine decay to `min_lr`.
    Cosine,
}

/// Every setting of a training run. Same settings and seed give bit-identical weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Hidden layer widths, input side first.
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Train a value head (tanh output predicting the outcome, +1 win .. -1 loss).
    pub value_head: bool,
    /// Weight of the value head's squared error in the loss.
    pub value_weight: f32,
    /// Optimizer.
    pub optimizer: OptimizerKind,
    /// Peak learning rate.
    pub lr: f64,
    /// Learning-rate schedule.
    pub schedule: ScheduleKind,
    /// Warm-up epochs of the cosine schedule (may be fractional).
    pub warmup_epochs: f64,
    /// Final learning rate of the cosine schedule (capped at `lr`).
    pub min_lr: f64,
    /// Epochs between decays of the step schedule.
    pub step_epochs: usize,
    /// Factor of each step-schedule decay.
    pub step_gamma: f64,
    /// Examples per batch.
    pub batch_size: usize,
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Weight decay (L2 for Adam, decoupled for AdamW).
    pub weight_decay: f64,
    /// Adam's beta1.
    pub beta1: f64,
    /// Adam's beta2.
    pub beta2: f64,
    /// Adam's epsilon.
    pub eps: f64,
    /// Stop after this many epochs without a better validation loss (0: never stop early).
    pub patience: usize,
    /// Seed of initialization and shuffling.
    pub seed: u64,
    /// Worker threads (0: one per core).
    pub threads: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            hidden: vec![128, 128],
            activation: Activation::Relu,
            value_head: true,
            value_weight: 0.25,
            optimizer: OptimizerKind::Adamw,
            lr: 3e-3,
            schedule: ScheduleKind::Cosine,
            warmup_epochs: 1.0,
            min_lr: 1e-4,
            step_epochs: 10,
            step_gamma: 0.5,
            batch_size: 256,
            epochs: 30,
            weight_decay: 1e-4,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
            patience: 6,
            seed: 0,
            threads: 0,
        }
    }
}

impl TrainConfig {
    /// Checks every setting; the error names the first bad one.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |what: String| Err(TrainError::Config(what));
        if let Some(i) = self.hidden.iter().position(|&w| w == 0) {
            return bad(format!(
                "hidden layer {i} has width 0 (every layer needs at least one unit)"
            ));
        }
        if let Some(i) = self.hidden.iter().position(|&w| w > 65_536) {
            return bad(format!("hidden layer {i} is wider than 65536 units"));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!("learning rate must be positive, got {}", self.lr));
        }
        if !(self.min_lr.is_finite() && self.min_lr >= 0.0) {
            return bad(format!("min_lr must be >= 0, got {}", self.min_lr));
        }
        if self.batch_size == 0 || self.batch_size > 1 << 20 {
            return bad(format!(
                "batch_size must be in 1..=1048576, got {}",
                self.batch_size
            ));
        }
        if self.epochs == 0 {
            return bad("epochs must be at least 1".into());
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(format!(
                "weight_decay must be >= 0, got {}",
                self.weight_decay
            ));
        }
        if !(self.value_weight.is_finite() && self.value_weight >= 0.0) {
            return bad(format!(
                "value_weight must be >= 0, got {}",
                self.value_weight
            ));
        }
        if !(0.0..1.0).contains(&self.beta1) || !(0.0..1.0).contains(&self.beta2) {
            return bad("beta1 and beta2 must be in [0, 1)".into());
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return bad(format!("eps must be positive, got {}", self.eps));
        }
        if !(self.warmup_epochs.is_finite() && self.warmup_epochs >= 0.0) {
            return bad("warmup_epochs must be >= 0".into());
        }
        if self.step_epochs == 0 || !(self.step_gamma.is_finite() && self.step_gamma > 0.0) {
            return bad("step_epochs must be >= 1 and step_gamma > 0".into());
        }
        Ok(())
    }

    /// The learning rate at optimizer step `step` (0-based) of `steps_per_epoch * epochs`.
    pub fn lr_at(&self, step: u64, steps_per_epoch: u64) -> f64 {
        let spe = steps_per_epoch.max(1) as f64;
        let epoch_f = step as f64 / spe;
        match self.schedule {
            ScheduleKind::Constant => self.lr,
            ScheduleKind::Step => {
                let k = (step / steps_per_epoch.max(1)) as usize / self.step_epochs;
                self.lr * self.step_gamma.powi(k.min(i32::MAX as usize) as i32)
            }
            ScheduleKind::Cosine => {
                let warm = self.warmup_epochs * spe;
                let s = step as f64;
                if s < warm {
                    return self.lr * (s + 1.0) / warm.max(1.0);
                }
                let total = (self.epochs as f64 * spe - warm).max(1.0);
                let t = ((epoch_f * spe - warm) / total).clamp(0.0, 1.0);
                // A min_lr above lr is capped at lr (the schedule never rises).
                let min = self.min_lr.min(self.lr);
                min + 0.5 * (self.lr - min) * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_named() {
        let mut c = TrainConfig {
            hidden: vec![8, 0],
            ..Default::default()
        };
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("hidden layer 1 has width 0")
        );
        c.hidden = vec![8];
        c.lr = -0.1;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("learning rate must be positive")
        );
        c.lr = 0.01;
        assert!(c.validate().is_ok());
    }

    #[test]
    fn schedules() {
        let mut c = TrainConfig {
            lr: 1.0,
            min_lr: 0.0,
            epochs: 10,
            warmup_epochs: 1.0,
            ..Default::default()
        };
        // Warm-up rises linearly, then the cosine falls to min_lr.
        assert!((c.lr_at(0, 10) - 0.1).abs() < 1e-12);
        assert!((c.lr_at(9, 10) - 1.0).abs() < 1e-12);
        assert!(c.lr_at(50, 10) < 0.6 && c.lr_at(50, 10) > 0.4);
        assert!(c.lr_at(99, 10) < 0.01);
        c.schedule = ScheduleKind::Step;
        c.step_epochs = 2;
        assert_eq!(c.lr_at(19, 10), 1.0);
        assert_eq!(c.lr_at(20, 10), 0.5);
        c.schedule = ScheduleKind::Constant;
        assert_eq!(c.lr_at(99, 10), 1.0);
    }
}
