//! Lambda `build-finished`: CodeBuild build state change → notification (and rollout of an exported image).

use deckhand::config::{BuildFinishedConfig, FromEnv};
use deckhand::{runtime, wiring};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = BuildFinishedConfig::from_env()?;
    let function = wiring::build_finished(config, &wiring::sdk_config().await);
    run(service_fn(|event: LambdaEvent<runtime::Value>| function.handle(event.payload))).await
}
