//! Tactician's device agent: takes models published through The Update Framework (TUF) to a
//! device safely, and never leaves the device without a working model.
//!
//! - [`identity`]: the device's id and age key; models are encrypted to its group's keys.
//! - [`release`]: what a published model is in the repository (targets, custom metadata,
//!   aliases), shared with the workstation's publisher.
//! - [`tuf`]: the TUF client on `tough` with the device's anti-rollback state.
//! - [`store`]: staging, validated models, the `current` link, the history.
//! - [`validate`]: the checks a model passes on the device before it is activated;
//!   [`battles`]: for the built-in game, validation battles against a scripted baseline.
//! - [`window`]: the maintenance window (a cron-like schedule in an explicit time zone).
//! - [`Agent`]: the update flow, explicit activation and rollback, status.
//! - [`fs`]: every change goes through [`fs::Fs`], so tests fail any single operation.
//!
//! ```no_run
//! use tactician_agent::{Agent, fs::OsFs};
//!
//! let agent = Agent::open(&OsFs, std::path::Path::new("/var/lib/tactician")).unwrap();
//! let outcome = agent.update(jiff::Timestamp::now()).unwrap();
//! println!("{outcome:?}");
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod agent;
pub mod battles;
pub mod config;
mod error;
pub mod fs;
pub mod identity;
pub mod lock;
mod provision;
pub mod release;
pub mod store;
pub mod tuf;
pub mod validate;
mod validation_set;
pub mod window;

pub use agent::{Agent, Outcome, Status};
pub use config::{AgentConfig, Budgets, PollConfig};
pub use error::{Error, Result};
pub use identity::Identity;
pub use provision::provision;
pub use release::{Channels, Release, ValidationRef};
pub use validation_set::{ValidationHeader, ValidationSet, ValidationSetError};
