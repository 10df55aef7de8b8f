//! Lambda `region-failover`: regional health alarms and operators → a failover plan, executed.

use deckhand::config::{FailoverConfig, FromEnv};
use deckhand::{runtime, wiring};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = FailoverConfig::from_env()?;
    let function = wiring::region_failover(config, &wiring::sdk_config().await);
    run(service_fn(|event: LambdaEvent<runtime::Value>| function.handle(event.payload))).await
}
