//! HTTP health probes of a new revision: GET with a timeout, redirects not followed.

use crate::ports::{ProbeOutcome, Prober};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The client is built on the first probe, not at cold start: building it loads the system's CA
/// store (~150 files here, measured with strace), and hooks that do not probe never need it.
#[derive(Debug)]
pub struct HttpProber {
    client: OnceLock<Result<reqwest::Client, String>>,
    timeout: Duration,
}

impl HttpProber {
    pub fn new(timeout: Duration) -> Self {
        Self { client: OnceLock::new(), timeout }
    }

    fn client(&self) -> Result<&reqwest::Client, &str> {
        let built = self.client.get_or_init(|| {
            let timeout = self.timeout;
            reqwest::Client::builder()
                // A redirect is an answer, not health: judge it by its own status.
                .redirect(reqwest::redirect::Policy::none())
                .timeout(timeout)
                .connect_timeout(timeout)
                // Every probe opens its own connection: a kept-alive one could reach an old task.
                .pool_max_idle_per_host(0)
                .user_agent("deckhand-traffic-gate")
                .build()
                .map_err(|err| format!("cannot build the HTTP client: {err}"))
        });
        built.as_ref().map_err(String::as_str)
    }
}

impl Prober for HttpProber {
    async fn probe(&self, url: &str, expected: &[u16]) -> ProbeOutcome {
        let client = match self.client() {
            Ok(client) => client,
            Err(reason) => return ProbeOutcome { ok: false, detail: reason.to_owned() },
        };
        let started = Instant::now();
        match client.get(url).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let ms = started.elapsed().as_millis();
                let ok = expected.contains(&status);
                let detail =
                    if ok { format!("HTTP {status} in {ms} ms") } else { format!("HTTP {status} (expected {expected:?}) in {ms} ms") };
                ProbeOutcome { ok, detail }
            }
            Err(err) => ProbeOutcome { ok: false, detail: describe(&err, self.timeout) },
        }
    }
}

/// What went wrong, in the words an operator searches for.
fn describe(err: &reqwest::Error, timeout: Duration) -> String {
    if err.is_timeout() {
        return format!("timed out after {} ms", timeout.as_millis());
    }
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(cause) = source {
        chain.push_str(&cause.to_string().to_ascii_lowercase());
        chain.push(' ');
        source = cause.source();
    }
    if chain.contains("connection refused") {
        "connection refused".into()
    } else if chain.contains("dns") || chain.contains("failed to lookup") {
        "host name does not resolve".into()
    } else if err.is_connect() {
        format!("cannot connect: {}", chain.trim())
    } else {
        format!("request failed: {}", chain.trim())
    }
}
