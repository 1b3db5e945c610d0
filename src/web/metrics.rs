//! Prometheus metrics for `serve`: requests by route and status with their
//! latency, unsubscribes, subscribe requests, confirmation emails, store
//! latency per operation, and connections. Who may read them is
//! [`super::metrics_access`]'s business.
//!
//! Built on `prometheus-client`, the Prometheus project's own Rust client,
//! rather than `metrics` + `metrics-exporter-prometheus`: its registry is a
//! value, not a process-wide recorder, so each service (and each test) has
//! its own; its label sets are typed structs, and here every label value is
//! a `&'static str` from a fixed list or a status code, so no address, token
//! or path can ever become a label; its text encoder writes the exposition
//! format; and it brings no HTTP server of its own (`serve` has one).
//!
//! [`Metrics`] is a handle that is either on or off (`[web] metrics =
//! false`): off, every call is a no-op and nothing is allocated.
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::Method;
use prometheus_client::encoding::{self, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::conns::Conns;
use super::metrics_labels::{ConfirmationEvent, ROUTES, StoreOp, SubscribeOutcome, UnsubscribeVia};

/// Upper bounds of the latency buckets, in seconds: from half a
/// millisecond (a page) to 30 s (`[web] request_timeout_secs`' default).
const BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ViaLabels {
    via: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The service's metrics, or nothing when they are off; cheap to clone.
#[derive(Clone, Default)]
pub struct Metrics(Option<Arc<Inner>>);

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histograms<RouteLabels>,
    unsubscribes: Family<ViaLabels, Counter>,
    undos: Counter,
    subscribes: Family<OutcomeLabels, Counter>,
    confirmations: Family<EventLabels, Counter>,
    queue: Family<StateLabels, Gauge>,
    store: Histograms<OperationLabels>,
}

impl Metrics {
    /// Metrics switched off: every call does nothing.
    pub fn off() -> Self {
        Self(None)
    }

    /// A fresh registry, reading open connections and evictions from `conns`.
    pub fn new(conns: Arc<Conns>) -> Self {
        let inner = Inner {
            registry: Registry::default(),
            requests: Family::default(),
            latency: Family::new_with_constructor(histogram),
            unsubscribes: Family::default(),
            undos: Counter::default(),
            subscribes: Family::default(),
            confirmations: Family::default(),
            queue: Family::default(),
            store: Family::new_with_constructor(histogram),
        };
        // Known series start at 0, so `rate()` sees the first event.
        for via in UnsubscribeVia::ALL {
            drop(
                inner
                    .unsubscribes
                    .get_or_create(&ViaLabels { via: via.label() }),
            );
        }
        for outcome in SubscribeOutcome::ALL {
            let labels = OutcomeLabels {
                outcome: outcome.label(),
            };
            drop(inner.subscribes.get_or_create(&labels));
        }
        for event in ConfirmationEvent::ALL {
            let labels = EventLabels {
                event: event.label(),
            };
            drop(inner.confirmations.get_or_create(&labels));
        }
        for op in StoreOp::ALL {
            let labels = OperationLabels {
                operation: op.label(),
            };
            drop(inner.store.get_or_create(&labels));
        }
        Self(Some(Arc::new(register(inner, conns))))
    }

    /// Whether metrics are on.
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// One answered request; `route` is from
    /// [`route_label`](super::metrics_labels::route_label).
    pub fn request(&self, method: &Method, route: &'static str, status: u16, took: Duration) {
        let Some(m) = &self.0 else { return };
        let method = method_label(method);
        let labels = RequestLabels {
            method,
            route,
            status,
        };
        m.requests.get_or_create(&labels).inc();
        m.latency
            .get_or_create(&RouteLabels { method, route })
            .observe(took.as_secs_f64());
    }

    /// An unsubscribe that changed a subscriber's status.
    pub fn unsubscribed(&self, via: UnsubscribeVia) {
        if let Some(m) = &self.0 {
            m.unsubscribes
                .get_or_create(&ViaLabels { via: via.label() })
                .inc();
        }
    }

    /// An undone unsubscribe (the Undo button) that changed the status.
    pub fn undone(&self) {
        if let Some(m) = &self.0 {
            m.undos.inc();
        }
    }

    /// How a subscribe form POST ended.
    pub fn subscribe(&self, outcome: SubscribeOutcome) {
        if let Some(m) = &self.0 {
            let labels = OutcomeLabels {
                outcome: outcome.label(),
            };
            m.subscribes.get_or_create(&labels).inc();
        }
    }

    /// Something that happened to a confirmation email.
    pub fn confirmation(&self, event: ConfirmationEvent) {
        if let Some(m) = &self.0 {
            let labels = EventLabels {
                event: event.label(),
            };
            m.confirmations.get_or_create(&labels).inc();
        }
    }

    /// Runs the store call `call`, timing it as `op`.
    pub async fn store<T>(&self, op: StoreOp, call: impl Future<Output = T>) -> T {
        let Some(m) = &self.0 else {
            return call.await;
        };
        let start = Instant::now();
        let out = call.await;
        let labels = OperationLabels {
            operation: op.label(),
        };
        m.store
            .get_or_create(&labels)
            .observe(start.elapsed().as_secs_f64());
        out
    }

    /// Sets the confirmation queue's depth, as read from the store.
    pub fn queue_depth(&self, waiting: u64, given_up: u64) {
        if let Some(m) = &self.0 {
            for (state, n) in [("waiting", waiting), ("given_up", given_up)] {
                let n = i64::try_from(n).unwrap_or(i64::MAX);
                m.queue.get_or_create(&StateLabels { state }).set(n);
            }
        }
    }

    /// The exposition in `format`; `None` when off.
    pub fn render(&self, format: Format) -> Option<String> {
        let m = self.0.as_ref()?;
        let mut out = String::with_capacity(16 * 1024);
        // Writing to a String cannot fail.
        let _ = match format {
            Format::Text => encoding::prometheus_text::encode(&mut out, &m.registry),
            Format::OpenMetrics => encoding::text::encode(&mut out, &m.registry),
        };
        Some(out)
    }
}

/// An exposition format: the classic text format (0.0.4), or OpenMetrics
/// 1.0, which Prometheus asks for first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    OpenMetrics,
}

impl Format {
    /// OpenMetrics when the scraper's `Accept` lists it (with a q above 0),
    /// else the text format every scraper reads.
    pub fn from_accept(accept: Option<&str>) -> Self {
        let wants_openmetrics = accept.unwrap_or("").split(',').any(|range| {
            let mut params = range.split(';').map(str::trim);
            let media = params.next().unwrap_or("");
            media.eq_ignore_ascii_case("application/openmetrics-text")
                && !params.any(|p| {
                    p.strip_prefix("q=")
                        .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
                })
        });
        match wants_openmetrics {
            true => Self::OpenMetrics,
            false => Self::Text,
        }
    }

    /// The `Content-Type` of [`Metrics::render`]'s text in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Text => encoding::prometheus_text::CONTENT_TYPE,
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

fn register(mut m: Inner, conns: Arc<Conns>) -> Inner {
    let r = &mut m.registry;
    let routes = ROUTES.join(", ");
    r.register(
        "mailroom_http_requests",
        format!(
            "HTTP requests answered, by method, route pattern ({routes}, unmatched) and status"
        ),
        m.requests.clone(),
    );
    r.register(
        "mailroom_http_request_duration_seconds",
        "Time from a request's head to its answer, by method and route pattern",
        m.latency.clone(),
    );
    r.register(
        "mailroom_unsubscribes",
        "Unsubscribes that changed a subscriber's status, by how: one_click \
         (RFC 8058 POST from a mail client) or form (the page's button)",
        m.unsubscribes.clone(),
    );
    r.register(
        "mailroom_unsubscribe_undos",
        "Unsubscribes undone with the Undo button (the subscriber is back)",
        m.undos.clone(),
    );
    r.register(
        "mailroom_subscribe_requests",
        "Subscribe form posts, by outcome",
        m.subscribes.clone(),
    );
    r.register(
        "mailroom_confirmations",
        "Confirmation emails: queued by the form, sent, retried after a \
         deferral, given up",
        m.confirmations.clone(),
    );
    r.register(
        "mailroom_confirmation_queue",
        "Confirmation emails in the store's queue (read at each scrape): \
         waiting to be sent, or given up",
        m.queue.clone(),
    );
    r.register(
        "mailroom_store_operation_duration_seconds",
        "Time of each store call made by serve, by operation",
        m.store.clone(),
    );
    r.register_collector(Box::new(super::metrics_labels::ConnsCollector(conns)));
    m
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn openmetrics_is_served_only_to_a_scraper_that_asks_for_it() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                          version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::from_accept(Some(prometheus)), Format::OpenMetrics);
        for text in [
            None,
            Some("*/*"),
            Some("text/plain;version=0.0.4"),
            Some("text/plain, application/openmetrics-text;q=0"),
        ] {
            assert_eq!(Format::from_accept(text), Format::Text, "{text:?}");
        }
    }
}
