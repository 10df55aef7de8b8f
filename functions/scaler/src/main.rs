//! Lambda `scaler`: scaling alarms (and a 1-minute re-check) → ECS service desired count.

use deckhand::{
    config::{FromEnv, ScalerConfig},
    runtime, scaler,
};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = ScalerConfig::from_env()?;
    let function = scaler::Scaler::from_sdk(config, &runtime::sdk_config().await, runtime::system_clock());
    run(service_fn(|event: LambdaEvent<runtime::Value>| function.handle(event.payload))).await
}
