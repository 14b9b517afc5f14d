//! The node's Prometheus metrics (recorded through the `metrics` facade; exported by
//! [`install_exporter`] or whatever recorder the embedding process installed).

use std::net::SocketAddr;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

use super::error::{NodeError, Result};

/// Counter: batches this node proved and got accepted on L1.
pub const BATCHES_PROVEN: &str = "ctm_prover_batches_proven_total";
/// Histogram: seconds from witness generation to an encoded proof, per batch.
pub const PROVE_SECONDS: &str = "ctm_prover_prove_seconds";
/// Counter: failed steps (label `kind`: l1, sequencer, replay, prove, submit, config).
pub const FAILURES: &str = "ctm_prover_failures_total";
/// Gauge: index of the last batch this node proved.
pub const LAST_PROVEN_BATCH: &str = "ctm_prover_last_proven_batch";
/// Counter: own batches skipped because another prover's proof landed first.
pub const SKIPPED: &str = "ctm_prover_batches_skipped_total";
/// Gauge: the last batch the replica has applied.
pub const REPLICA_BATCH: &str = "ctm_prover_replica_batch";
/// Counter: other nodes' batches this node started proving after their takeover delay.
pub const TAKEOVERS: &str = "ctm_prover_takeovers_total";
/// Counter: batches this node finalized on L1 (`--finalize`).
pub const BATCHES_FINALIZED: &str = "ctm_prover_batches_finalized_total";

/// Histogram buckets of [`PROVE_SECONDS`].
const PROVE_BUCKETS: &[f64] =
    &[0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0];

/// A Prometheus builder with the node's histogram buckets.
pub fn builder() -> Result<PrometheusBuilder> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(PROVE_SECONDS.into()), PROVE_BUCKETS)
        .map_err(|e| NodeError::Config(format!("metrics: {e}")))
}

/// Serves `/metrics` on `addr` (installs the global recorder; once per process).
pub fn install_exporter(addr: SocketAddr) -> Result<()> {
    builder()?
        .with_http_listener(addr)
        .install()
        .map_err(|e| NodeError::Config(format!("metrics exporter on {addr}: {e}")))?;
    describe();
    Ok(())
}

/// Registers the metrics' descriptions.
pub fn describe() {
    metrics::describe_counter!(BATCHES_PROVEN, "Batches this node proved and L1 accepted");
    metrics::describe_histogram!(
        PROVE_SECONDS,
        metrics::Unit::Seconds,
        "Witness + proof time per batch"
    );
    metrics::describe_counter!(FAILURES, "Failed node steps by kind (retried with backoff)");
    metrics::describe_gauge!(LAST_PROVEN_BATCH, "Index of the last batch this node proved");
    metrics::describe_counter!(SKIPPED, "Own batches another prover proved first");
    metrics::describe_gauge!(REPLICA_BATCH, "Last batch applied to the node's state replica");
    metrics::describe_counter!(TAKEOVERS, "Other nodes' batches taken over after the delay");
    metrics::describe_counter!(BATCHES_FINALIZED, "Batches this node finalized on L1");
}

/// Records an accepted proof of `batch`.
pub(crate) fn proven(batch: u64) {
    metrics::counter!(BATCHES_PROVEN).increment(1);
    metrics::gauge!(LAST_PROVEN_BATCH).set(batch as f64);
}

/// Records a failure of `kind`.
pub(crate) fn failure(kind: &'static str) {
    metrics::counter!(FAILURES, "kind" => kind).increment(1);
}
