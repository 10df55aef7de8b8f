//! `deckhand:track`: which pushed tags deploy a service.
//!
//! - `latest`: exactly this tag;
//! - `release-*`: a glob (`*`, `?`, `[..]`, `{a,b}`), or `glob:PATTERN`;
//! - `prefix:release-`: any tag starting with `release-` (the glob spelled with characters
//!   ECS accepts in tag values, which exclude `*`);
//! - `semver:^1.4`: a semver range over tags that are versions (`1.4.2` or `v1.4.2`). A range
//!   without an operator is a caret range (`semver:1.4` = `^1.4`), also tag-value safe.
//!   Pre-releases match only a range that names one, as in Cargo and npm.

use crate::quote::quote;
use globset::{Glob, GlobMatcher};
use semver::{Version, VersionReq};
use std::fmt;
use thiserror::Error;

#[derive(Debug, Clone)]
pub enum TagPolicy {
    Exact(String),
    /// `prefix:P`: matched without a glob, whose compiled matcher would cost a rollout one regex
    /// per tracked service on every push.
    Prefix(String),
    Glob(GlobMatcher),
    Semver(VersionReq),
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid deckhand:track {}: {reason}", quote(.value))]
pub struct TagPolicyError {
    pub value: String,
    pub reason: String,
}

impl TagPolicy {
    pub fn parse(value: &str) -> Result<Self, TagPolicyError> {
        let value = value.trim();
        let invalid = |reason: String| TagPolicyError { value: value.to_owned(), reason };
        if value.is_empty() {
            return Err(invalid("empty; expected a tag, a glob, prefix:P or semver:RANGE".into()));
        }
        if let Some(range) = value.strip_prefix("semver:") {
            return VersionReq::parse(range.trim()).map(TagPolicy::Semver).map_err(|err| invalid(format!("not a semver range: {err}")));
        }
        if let Some(prefix) = value.strip_prefix("prefix:") {
            return Ok(TagPolicy::Prefix(prefix.to_owned()));
        }
        let glob = if let Some(pattern) = value.strip_prefix("glob:") {
            pattern.to_owned()
        } else if value.contains(['*', '?', '[', '{']) {
            value.to_owned()
        } else {
            return Ok(TagPolicy::Exact(value.to_owned()));
        };
        // Image tags have no path separators, so `*` may match any character.
        Glob::new(&glob).map(|glob| TagPolicy::Glob(glob.compile_matcher())).map_err(|err| invalid(format!("not a glob: {}", err.kind())))
    }

    pub fn matches(&self, tag: &str) -> bool {
        match self {
            TagPolicy::Exact(exact) => exact == tag,
            TagPolicy::Prefix(prefix) => tag.starts_with(prefix.as_str()),
            TagPolicy::Glob(glob) => glob.is_match(tag),
            TagPolicy::Semver(range) => version_of(tag).is_some_and(|version| range.matches(&version)),
        }
    }
}

impl fmt::Display for TagPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TagPolicy::Exact(tag) => write!(f, "{tag}"),
            TagPolicy::Prefix(prefix) => write!(f, "prefix:{prefix}"),
            TagPolicy::Glob(glob) => write!(f, "glob:{}", glob.glob()),
            TagPolicy::Semver(range) => write!(f, "semver:{range}"),
        }
    }
}

/// A tag read as a version: `1.4.2` or `v1.4.2`.
pub fn version_of(tag: &str) -> Option<Version> {
    Version::parse(tag.strip_prefix(['v', 'V']).unwrap_or(tag)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(policy: &str, matching: &[&str], not_matching: &[&str]) {
        let parsed = TagPolicy::parse(policy).unwrap();
        for tag in matching {
            assert!(parsed.matches(tag), "{policy} should match {tag}");
        }
        for tag in not_matching {
            assert!(!parsed.matches(tag), "{policy} should not match {tag}");
        }
    }

    #[test]
    fn exact_tags() {
        check("latest", &["latest"], &["latest2", "Latest", "", "v1"]);
    }

    #[test]
    fn globs() {
        check("release-*", &["release-1", "release-", "release-2026.11/x"], &["release", "pre-release-1"]);
        check("glob:v1.?", &["v1.2"], &["v1.23"]);
        check("{main,stable}-*", &["main-abc", "stable-1"], &["dev-1"]);
        check("prefix:release-", &["release-1"], &["releasex"]);
        // A prefix is literal even when it holds glob characters.
        check("prefix:a[b", &["a[b1"], &["ab1"]);
    }

    #[test]
    fn semver_ranges() {
        check("semver:^1.4", &["1.4.0", "v1.4.2", "1.9.9"], &["1.3.9", "2.0.0", "latest", "1.5.0-rc.1", "v1.4"]);
        check("semver:1.4", &["1.4.0", "1.99.0"], &["2.0.0"]);
        check("semver:~1.4", &["1.4.7"], &["1.5.0"]);
        check("semver:>=1.2, <1.5", &["1.2.0", "1.4.9"], &["1.5.0"]);
        check("semver:>=2.0.0-rc.1", &["2.0.0-rc.2", "2.0.0"], &["1.9.0"]);
    }

    #[test]
    fn invalid_policies_explain_themselves() {
        for value in ["", "semver:not-a-range", "release-[", "glob:{a"] {
            let err = TagPolicy::parse(value).unwrap_err();
            assert!(err.to_string().starts_with("invalid deckhand:track"), "{err}");
        }
    }
}
