//! Lambda `deploy-events`: ECS and CodeDeploy deployment state changes → notifications.

use deckhand::config::{DeployEventsConfig, FromEnv};
use deckhand::{runtime, wiring};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = DeployEventsConfig::from_env()?;
    let function = wiring::deploy_events(config, &wiring::sdk_config().await);
    run(service_fn(|event: LambdaEvent<runtime::Value>| function.handle(event.payload))).await
}
