//! The fixed vocabularies of [`super::metrics`]' labels (route patterns,
//! unsubscribe kinds, subscribe outcomes, confirmation events, store
//! operations), and the collector that reads the connection table at each
//! scrape. Every label value is a `&'static str` from these lists.
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use super::conns::Conns;

/// The router's route patterns; anything else is `unmatched`.
pub const ROUTES: &[&str] = &[
    "/",
    "/subscribe",
    "/confirm/{token}",
    "/unsubscribe/{token}",
    "/resubscribe/{token}",
    "/healthz",
    "/style.css",
    "/metrics",
];

/// The label for axum's matched route pattern (a pattern, never a path).
pub fn route_label(matched: Option<&str>) -> &'static str {
    matched
        .and_then(|m| ROUTES.iter().find(|r| **r == m))
        .copied()
        .unwrap_or("unmatched")
}

/// Defines a label vocabulary: an enum, its label text, and every variant.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $label:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, to start each series at 0.
            pub const ALL: &[Self] = &[$(Self::$variant,)+];

            /// The label value.
            pub fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)+
                }
            }
        }
    };
}

vocabulary! {
    /// How an unsubscribe arrived.
    UnsubscribeVia {
        /// RFC 8058's `List-Unsubscribe=One-Click` POST from a mail client.
        OneClick => "one_click",
        /// The button on the unsubscribe page.
        Form => "form",
    }
}

vocabulary! {
    /// How a subscribe form POST ended (the visitor sees one page for all
    /// of the accepted ones; the operator sees which).
    SubscribeOutcome {
        /// A pending subscriber and a confirmation email were stored.
        Queued => "confirmation_queued",
        /// The address is already subscribed; nothing was stored.
        AlreadySubscribed => "already_subscribed",
        /// The address is suppressed (bounced, complained, erased).
        Suppressed => "suppressed",
        /// Over the per-IP or per-address limit.
        Throttled => "throttled",
        /// The hidden honeypot field was filled in.
        Honeypot => "honeypot",
        /// The confirmation queue was full (503).
        QueueFull => "queue_full",
        /// The form could not be read or a field was wrong.
        Invalid => "invalid",
        /// The store failed.
        StoreError => "store_error",
    }
}

vocabulary! {
    /// Something that happened to a confirmation email.
    ConfirmationEvent {
        /// Queued by a subscribe request.
        Queued => "queued",
        /// Accepted by the relay (or written to the outbox).
        Sent => "sent",
        /// Deferred, to be retried after a backoff.
        Retried => "retried",
        /// Refused for good, or out of attempts.
        GivenUp => "given_up",
    }
}

vocabulary! {
    /// A kind of store call made by `serve`.
    StoreOp {
        UnsubscribeBatch => "unsubscribe_batch",
        UndoUnsubscribe => "undo_unsubscribe",
        StatusOf => "status_of",
        RequestSubscription => "request_subscription",
        ConfirmSubscription => "confirm_subscription",
        QueueFull => "confirmation_queue_full",
        ClaimConfirmations => "claim_confirmations",
        FinishConfirmations => "finish_confirmations",
        NextConfirmationDue => "next_confirmation_due",
        ReadQueue => "confirmation_queue",
    }
}

/// Reads the connection table at each scrape.
#[derive(Debug)]
pub struct ConnsCollector(pub Arc<Conns>);

impl Collector for ConnsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let conns = &self.0;
        let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let open = ConstGauge::new(as_i64(conns.len()));
        let m = encoder.encode_descriptor(
            "mailroom_http_connections_open",
            "HTTP connections open now (idle kept-alive ones included).",
            None,
            open.metric_type(),
        )?;
        open.encode(m)?;
        let cap = ConstGauge::new(as_i64(conns.cap()));
        let m = encoder.encode_descriptor(
            "mailroom_http_connections_max",
            "The connection cap in force (`[web] max_connections`, kept below the open-file limit).",
            None,
            cap.metric_type(),
        )?;
        cap.encode(m)?;
        let evicted = ConstCounter::new(conns.evicted());
        let m = encoder.encode_descriptor(
            "mailroom_http_connections_evicted",
            "Idle connections closed to make room for a new one (at the cap, or out of file descriptors).",
            None,
            evicted.metric_type(),
        )?;
        evicted.encode(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_label_is_a_known_pattern_or_unmatched() {
        assert_eq!(route_label(Some("/confirm/{token}")), "/confirm/{token}");
        assert_eq!(route_label(Some("/unsubscribe/abc.def")), "unmatched");
        assert_eq!(route_label(None), "unmatched");
    }
}
