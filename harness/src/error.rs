//! The CLI's error: a one-line message, and the hint on a line of its own. Every error type of the harness (and
//! the report writer's) converts into it with its hint kept apart, so `main` prints `error: …` then `(hint: …)`
//! without reading either out of the other.

use crate::config::ConfigError;
use crate::corpus::CorpusError;
use crate::known::KnownError;

/// A usage or environment error (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
    pub hint: Option<String>,
}

impl UsageError {
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> UsageError {
        UsageError { message: message.into(), hint: Some(hint.into()) }
    }
}

impl From<ConfigError> for UsageError {
    fn from(e: ConfigError) -> UsageError {
        UsageError { message: e.to_string(), hint: Some(e.hint.to_string()) }
    }
}

impl From<KnownError> for UsageError {
    fn from(e: KnownError) -> UsageError {
        UsageError { hint: e.hint(), message: e.to_string() }
    }
}

impl From<CorpusError> for UsageError {
    fn from(e: CorpusError) -> UsageError {
        UsageError { hint: e.hint(), message: e.to_string() }
    }
}

impl From<conform_reports::WriteError> for UsageError {
    fn from(e: conform_reports::WriteError) -> UsageError {
        UsageError { hint: e.hint().map(str::to_string), message: format!("{:#}", anyhow::Error::from(e)) }
    }
}

/// The hint of an error, if it is (or wraps) a [`UsageError`].
pub fn hint_of(error: &anyhow::Error) -> Option<&str> {
    error.chain().find_map(|e| e.downcast_ref::<UsageError>()).and_then(|u| u.hint.as_deref())
}
