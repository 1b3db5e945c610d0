//! The one integration-test crate: the real binary and library against real
//! peers (SMTP sinks, Postfix + Dovecot, Chromium), one module per area.

mod common;
mod support;

mod browser;
mod check_cli;
mod check_seeds;
mod config_cli;
mod dkim;
mod hostile;
mod inbound;
mod inbound_parse;
mod init_cli;
mod pipeline_props;
mod render;
mod render_cli;
mod send_breaker;
mod send_changes;
mod send_cli;
mod send_crash;
mod send_exit;
mod send_faults;
mod send_guard;
mod send_lease;
mod send_mta;
mod send_progress;
mod send_refused;
mod send_rehearsal;
mod send_relay;
mod send_smtp;
mod status_report;
mod store;
mod store_web;
mod subscribers_erase;
mod subscribers_import;
mod subscribers_import_limits;
mod subscribers_import_rows;
mod subscribers_manage;
mod subscribers_people;
mod web;
mod web_browser;
mod web_limits;
mod web_queue;
mod web_queue_store;
mod web_rotation;
