//! Lambda `traffic-gate`: the CodeDeploy / ECS blue/green lifecycle hook.

use deckhand::traffic_gate::{SdkGatePorts, TrafficGate};
use deckhand::{
    config::{FromEnv, GateConfig},
    runtime,
};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = GateConfig::from_env()?;
    let ports = SdkGatePorts::from_sdk(&config, &runtime::sdk_config().await);
    let function = TrafficGate::new(config, ports);
    run(service_fn(|event: LambdaEvent<runtime::Value>| function.handle(event.payload))).await
}
