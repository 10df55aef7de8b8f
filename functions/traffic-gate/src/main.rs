//! Lambda `traffic-gate`: the CodeDeploy / ECS blue/green lifecycle hook.

use deckhand::config::{FromEnv, GateConfig};
use deckhand::{runtime, wiring};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = GateConfig::from_env()?;
    let function = wiring::traffic_gate(config, &wiring::sdk_config().await);
    run(service_fn(|event: LambdaEvent<runtime::Value>| function.handle(event.payload))).await
}
