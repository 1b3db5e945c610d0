//! mailroom: deliver a weekly Markdown newsletter by email.
//!
//! The pipeline is issue file → [`issue`] → [`check`] → [`render`] → [`message`]
//! → store → send → [`transport`]. Stages exchange the plain data types in
//! [`model`] and [`domain`]; `send` reaches the store only through
//! [`domain::Ledger`].
#![forbid(unsafe_code)]
// Output goes through `output` (`outln!`, `note!`, `warning!`): `println!`
// panics when a reader closes the pipe, and stray lines escape the voice.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod check;
pub mod cmd;
pub mod config;
pub mod domain;
pub mod import;
pub mod inbound;
pub mod issue;
pub mod message;
pub mod model;
pub mod output;
pub mod render;
pub mod send;
pub mod store;
pub mod thread;
pub mod token;
pub mod transport;
pub mod web;
