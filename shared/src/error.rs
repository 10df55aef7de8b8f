//! Handler errors, mapped to `lambda_runtime::Diagnostic` so the error type reads well in logs.

use crate::adapters::aws::AWS_ERROR_MAX;
use crate::event::{EVENT_ERROR_MAX, EventError};
use crate::quote::clip;
use lambda_runtime::Diagnostic;
use thiserror::Error;

/// Most characters of a `Misconfigured` reason (tag values, names and ids can be in it).
pub const REASON_MAX: usize = 512;
/// Most characters of an `Incomplete` summary (one line per failed service, each bounded).
pub const SUMMARY_MAX: usize = 1024;

/// The longest error any input can produce, as the Lambda error message, a log line or an
/// outcome shows it: 1,100 characters, one line. `Incomplete` is the longest (its counts and
/// `SUMMARY_MAX`); a malformed event is at most `EVENT_ERROR_MAX` (484), an AWS failure
/// `AWS_ERROR_MAX` (512), `misconfigured: ` + `REASON_MAX` (527), `busy: ` + an error cut to
/// `AWS_ERROR_MAX` (518). Each bound is enforced where the text is made: `quote` and `clip`
/// (`crate::quote`), `EventError::field`, `adapters::aws::aws_error`, and this type's `Display`.
pub const ERROR_MAX: usize = 1100;

const _: () = assert!(EVENT_ERROR_MAX <= ERROR_MAX && AWS_ERROR_MAX + 6 <= ERROR_MAX && REASON_MAX + 15 <= ERROR_MAX);
const _: () = assert!(SUMMARY_MAX + 2 * 20 + 22 <= ERROR_MAX);

#[derive(Debug, Error)]
pub enum HandlerError {
    #[error(transparent)]
    MalformedEvent(#[from] EventError),
    /// One line: `ecs:UpdateService: ThrottlingException: Rate exceeded`, at most
    /// `adapters::aws::AWS_ERROR_MAX` characters (see `adapters::aws::aws_error`).
    #[error("{operation}: {message}")]
    Aws { operation: &'static str, message: String },
    /// What Deckhand was pointed at is not there or not usable (a tag, a deployment group).
    #[error("misconfigured: {}", clip(.0, REASON_MAX))]
    Misconfigured(String),
    /// The resource is busy with something that ends by itself (e.g. a deployment still stopping).
    #[error("busy: {}", clip(&.0.to_string(), AWS_ERROR_MAX))]
    Busy(Box<HandlerError>),
    /// Some services could not be brought to the pushed image; the event is retried (every
    /// step is idempotent), so the ones that succeeded are not repeated.
    #[error("{failed} of {total} services failed: {}", clip(summary, SUMMARY_MAX))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_error_outgrows_its_bound() {
        let huge = format!("{}\nsecond line", "z".repeat(1 << 20));
        let aws = || HandlerError::Aws { operation: "ecs:UpdateService", message: crate::quote::clip(&huge, AWS_ERROR_MAX - 19) };
        let errors = [
            HandlerError::MalformedEvent(EventError::field(huge.clone(), huge.clone())),
            aws(),
            HandlerError::Misconfigured(huge.clone()),
            HandlerError::Busy(Box::new(HandlerError::Busy(Box::new(HandlerError::Misconfigured(huge.clone()))))),
            HandlerError::Incomplete { failed: usize::MAX, total: usize::MAX, summary: vec![aws().to_string(); 2000].join("; ") },
        ];
        for err in errors {
            let message = Diagnostic::from(err).error_message;
            assert!(message.chars().count() <= ERROR_MAX, "{} characters: {message:.200}", message.chars().count());
            assert!(!message.contains('\n'), "{message:.200}");
        }
    }
}
