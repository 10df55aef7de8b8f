//! Lambda `image-pushed`: ECR push → digest-pinned revision → deployment → notification.

use deckhand::config::{FromEnv, ImagePushedConfig};
use deckhand::{runtime, wiring};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = ImagePushedConfig::from_env()?;
    let function = wiring::image_pushed(config, &wiring::sdk_config().await);
    run(service_fn(|event: LambdaEvent<runtime::Value>| function.handle(event.payload))).await
}
