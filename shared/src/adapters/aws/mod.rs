//! The ports implemented with the AWS SDK, one module per service. Each turns SDK shapes into
//! the ports' plain data and SDK errors into `HandlerError::Aws`.

pub mod cloudwatch;
pub mod codedeploy;
pub mod ecs;
pub mod elb;
pub mod route53;
pub mod sns;
pub mod task_definitions;

use crate::error::HandlerError;
use std::collections::HashMap;
use std::sync::Mutex;

/// An SDK error with its whole chain of causes, named after the operation.
pub fn aws_error(operation: &'static str, err: impl std::error::Error) -> HandlerError {
    HandlerError::Aws { operation, message: aws_smithy_types::error::display::DisplayErrorContext(err).to_string() }
}

/// SDK documents an adapter read and will write back whole (a task definition to copy, a
/// service's deployment configuration to keep), by ARN. Bounded: when full it starts afresh,
/// and a caller that finds nothing reads the document again.
#[derive(Debug)]
pub struct Remembered<T> {
    by_arn: Mutex<HashMap<String, T>>,
    capacity: usize,
}

impl<T: Clone> Remembered<T> {
    pub fn new(capacity: usize) -> Self {
        Self { by_arn: Mutex::new(HashMap::new()), capacity }
    }

    pub fn get(&self, arn: &str) -> Option<T> {
        self.by_arn.lock().ok()?.get(arn).cloned()
    }

    pub fn keep(&self, arn: &str, document: T) {
        if let Ok(mut by_arn) = self.by_arn.lock() {
            if by_arn.len() >= self.capacity && !by_arn.contains_key(arn) {
                by_arn.clear();
            }
            by_arn.insert(arn.to_owned(), document);
        }
    }
}
