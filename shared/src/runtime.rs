//! What every function's `main` does once at cold start.

use lambda_runtime::tracing::subscriber::filter::{EnvFilter, LevelFilter};
use lambda_runtime::tracing::subscriber::fmt::{self, MakeWriter};
use lambda_runtime::tracing::subscriber::layer::SubscriberExt;
use lambda_runtime::tracing::subscriber::registry::LookupSpan;
use lambda_runtime::tracing::subscriber::util::SubscriberInitExt;
use lambda_runtime::tracing::subscriber::{Layer, Registry};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::Subscriber;

pub use serde_json::Value;

/// RFC 3339 (`2026-03-05T16:04:41Z`): what people read, what ECS writes (`expiresAt`), and what a
/// tag value allows.
pub fn rfc3339(epoch: u64) -> String {
    let at = i64::try_from(epoch).ok().and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok());
    at.and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok()).unwrap_or_else(|| epoch.to_string())
}

/// JSON logs when Lambda asks for them (`AWS_LAMBDA_LOG_FORMAT=JSON`), level from
/// `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`, when it is a level; else INFO), filtered by
/// [`log_filter`] so that no level logs what events and AWS calls carry.
pub fn init_tracing() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG"));
    let level = level.ok().and_then(|level| LevelFilter::from_str(level.trim()).ok()).unwrap_or(LevelFilter::INFO);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let subscriber = Registry::default().with(log_layer(level, json, std::io::stdout));
    // A second call (tests) keeps the first subscriber.
    let _ = subscriber.try_init();
}

/// Deckhand's own logs at `level`; every other crate's at DEBUG at most, whatever was asked.
/// At TRACE the Lambda runtime logs each raw event (a CodeBuild event carries the build's
/// exported variables, secrets included) and the AWS SDK every HTTP request and response (task
/// definitions with their environment values); at DEBUG neither does. `RUST_LOG` directives are
/// not read: the level is the only knob.
pub fn log_filter(level: LevelFilter) -> EnvFilter {
    EnvFilter::builder().parse_lossy(format!("{},deckhand={level}", level.min(LevelFilter::DEBUG)))
}

/// The layer `init_tracing` installs, writing to `writer`: Lambda's format (no time, no target;
/// JSON or text) under [`log_filter`].
pub fn log_layer<S, W>(level: LevelFilter, json: bool, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let format = fmt::layer().with_target(false).without_time().with_writer(writer);
    if json { format.json().with_filter(log_filter(level)).boxed() } else { format.with_filter(log_filter(level)).boxed() }
}

/// Seconds since the epoch; injectable so tests can move time (cooldowns, failover windows).
pub type Clock = Box<dyn Fn() -> u64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Box::new(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::CapturedLogs;

    fn logged(level: LevelFilter, json: bool) -> String {
        let captured = CapturedLogs::default();
        let subscriber = Registry::default().with(log_layer(level, json, captured.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "lambda_runtime::layers::api_response", body = "runtime-trace", "raw JSON event");
            tracing::debug!(target: "lambda_runtime::runtime", "runtime-debug");
            tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", "sdk-trace");
            tracing::trace!(target: "deckhand::usecase", "ours-trace");
            tracing::debug!(target: "deckhand::usecase", "ours-debug");
            tracing::info!(target: "deckhand::usecase", "ours-info");
        });
        captured.text()
    }

    #[test]
    fn other_crates_never_log_below_debug() {
        for json in [false, true] {
            let trace = logged(LevelFilter::TRACE, json);
            assert!(trace.contains("ours-trace") && trace.contains("runtime-debug"), "{trace}");
            assert!(!trace.contains("runtime-trace") && !trace.contains("sdk-trace"), "{trace}");
            let info = logged(LevelFilter::INFO, json);
            assert!(info.contains("ours-info") && !info.contains("ours-debug") && !info.contains("runtime-debug"), "{info}");
        }
        assert!(logged(LevelFilter::TRACE, true).lines().all(|line| serde_json::from_str::<Value>(line).is_ok()));
    }
}
