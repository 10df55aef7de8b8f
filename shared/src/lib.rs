//! Deckhand's shared library. Data flows one way: an event, decoded strictly (`event`) → what
//! AWS shows now, read through the ports (`ports`, implemented by `adapters` and, in tests, by
//! `fakes`) → a pure decision (each use case's `plan`) → actions through the ports → one
//! `outcome`. `wiring` composes the SDK adapters into each function's handler.

pub mod adapters;
pub mod config;
pub mod error;
pub mod event;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub mod notify;
pub mod outcome;
pub mod ports;
pub mod quote;
pub mod recent;
pub mod runtime;
pub mod tags;
pub mod usecase;
pub mod wiring;
