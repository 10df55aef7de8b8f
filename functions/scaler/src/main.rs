//! Lambda `scaler`: scaling alarms (and a 1-minute re-check) → ECS service desired count.

use deckhand::config::{FromEnv, ScalerConfig};
use deckhand::{runtime, wiring};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = ScalerConfig::from_env()?;
    let function = wiring::scaler(config, &wiring::sdk_config().await);
    run(service_fn(|event: LambdaEvent<runtime::Value>| function.handle(event.payload))).await
}
