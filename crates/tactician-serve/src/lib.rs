//! Tactician's decision server, on the device: a game asks the active model for moves over
//! HTTP (TCP or a Unix socket), operators scrape its metrics, and the model the agent activates
//! or rolls back to is put in service between requests.
//!
//! - [`api`]: requests and responses (`/v1/act` with features and a mask or a state of the
//!   built-in game, `/v1/act/batch`, `/v1/battles/{id}/result`).
//! - [`model`]: the model in service, a pool of runtime policies, swapped whole.
//! - [`metrics`]: Prometheus metrics through `prometheus-client`.
//! - [`sysfs`]: thermal zones, the Pi firmware's throttling flags, process memory and CPU.
//! - [`server`]: routes, listeners, and the watcher of the agent's `current` link.
//! - [`client`]: a minimal kept-alive HTTP/1.1 client, for measuring and testing the server.
//! - [`battlelog`]: the battles the device played, as rotated, bounded battle logs.
//! - [`history`]: a bounded history of latency, memory, CPU and temperature, and the last
//!   errors, in `STATE/serve-status.json` for `tactician-device status`.
//!
//! ```no_run
//! use tactician_serve::server::{Listen, ServeConfig, start};
//!
//! let config = ServeConfig::new(std::path::Path::new("/var/lib/tactician"));
//! let listen = Listen { tcp: Some("127.0.0.1:8470".parse().unwrap()), socket: None };
//! let running = start(config, &listen, 2).unwrap();
//! println!("listening on {:?}", running.tcp);
//! running.stop();
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod api;
pub mod battlelog;
pub mod client;
mod error;
pub mod history;
pub mod metrics;
pub mod model;
pub mod server;
pub mod sysfs;

pub use error::{Error, Result};
