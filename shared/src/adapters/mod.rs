//! Implementations of the ports: `aws` through the AWS SDK for Rust, `http_probe` through reqwest.
//! With `wiring`, the only code that names an SDK type.

pub mod aws;
pub mod http_probe;
