//! Handler errors, mapped to `lambda_runtime::Diagnostic` so the error type reads well in logs.

use crate::event::EventError;
use lambda_runtime::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum HandlerError {
    #[error(transparent)]
    MalformedEvent(#[from] EventError),
    #[error("AWS {operation} failed: {message}")]
    Aws { operation: &'static str, message: String },
    /// What Deckhand was pointed at is not there or not usable (a tag, a deployment group).
    #[error("misconfigured: {0}")]
    Misconfigured(String),
    /// The resource is busy with something that ends by itself (e.g. a deployment still stopping).
    #[error("busy: {0}")]
    Busy(Box<HandlerError>),
    /// Some services could not be brought to the pushed image; the event is retried (every
    /// step is idempotent), so the ones that succeeded are not repeated.
    #[error("{failed} of {total} services failed: {summary}")]
    Incomplete { failed: usize, total: usize, summary: String },
}

impl HandlerError {
    fn kind(&self) -> &'static str {
        match self {
            HandlerError::MalformedEvent(_) => "Deckhand.MalformedEvent",
            HandlerError::Aws { .. } => "Deckhand.AwsError",
            HandlerError::Busy(_) => "Deckhand.Busy",
            HandlerError::Misconfigured(_) => "Deckhand.Misconfigured",
            HandlerError::Incomplete { .. } => "Deckhand.Incomplete",
        }
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(err: HandlerError) -> Self {
        Diagnostic { error_type: err.kind().to_owned(), error_message: err.to_string() }
    }
}
