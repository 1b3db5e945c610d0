//! The one integration-test crate: the real binary and library against real
//! peers (SMTP sinks, Postfix + Dovecot, Chromium), one module per area.

mod common;
mod support;

mod browser;
mod check_cli;
mod check_seeds;
mod inbound;
mod postgres;
mod render;
mod render_cli;
mod send_changes;
mod send_cli;
mod send_crash;
mod send_faults;
mod send_lease;
mod send_many;
mod send_mta;
mod send_refused;
mod send_smtp;
mod store;
mod store_web;
mod subscribers_import;
mod subscribers_manage;
mod web;
mod web_browser;
mod web_rotation;
