//! Lambda `region-failover`: regional health alarms and operators → a failover plan, executed.

use deckhand::region_failover::SdkRegionFailover;
use deckhand::{
    config::{FailoverConfig, FromEnv},
    runtime,
};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = FailoverConfig::from_env()?;
    let function = SdkRegionFailover::from_sdk(config, &runtime::sdk_config().await, runtime::system_clock());
    run(service_fn(|event: LambdaEvent<runtime::Value>| function.handle(event.payload))).await
}
