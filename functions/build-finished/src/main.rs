//! Lambda `build-finished`: CodeBuild build state change → notification (and rollout of an exported image).

use deckhand::{
    build_finished::BuildFinished,
    config::{BuildFinishedConfig, FromEnv},
    runtime,
};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = BuildFinishedConfig::from_env()?;
    let function = BuildFinished::from_sdk(config, &runtime::sdk_config().await);
    run(service_fn(|event: LambdaEvent<runtime::Value>| function.handle(event.payload))).await
}
