//! What `mmsm scripts` shows of each script and plugin.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{Active, LoadFailure};
use mmsm_scripting::ScriptKind;

/// What runs a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// The Lua host.
    Lua,
    /// A native plugin.
    Plugin,
}

/// The state of an id: active, or failed with the error of its last load.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum LoadState {
    /// Its latest file loaded; calls use it.
    Active,
    /// Its latest file failed to load; calls use the kept version, if any.
    Failed {
        /// Why, on one line.
        error: String,
        /// The content hash of the file that failed.
        failed_version: String,
    },
}

/// One line of `mmsm scripts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScriptStatus {
    /// The id (a file path for a file that never declared one).
    pub id: String,
    /// The kind, when a version is active.
    pub kind: Option<ScriptKind>,
    /// Lua or plugin.
    pub runtime: Runtime,
    /// The source file.
    pub source: PathBuf,
    /// The content hash of the active version.
    pub version: Option<String>,
    /// Active, or failed with the error.
    #[serde(flatten)]
    pub state: LoadState,
    /// When the file was last loaded (successfully or not), UTC RFC 3339.
    pub last_load: String,
}

impl ScriptStatus {
    pub(super) fn of(
        id: &str,
        source: &Path,
        runtime: Runtime,
        active: Option<&Active>,
        failure: Option<&LoadFailure>,
    ) -> ScriptStatus {
        let last_load = match (active, failure) {
            (_, Some(failure)) => failure.at,
            (Some(active), None) => active.loaded_at,
            (None, None) => UNIX_EPOCH,
        };
        ScriptStatus {
            id: id.to_owned(),
            kind: active.map(|a| a.unit.declaration().kind),
            runtime,
            source: source.to_path_buf(),
            version: active.map(|a| a.hash.clone()),
            state: match failure {
                None => LoadState::Active,
                Some(failure) => LoadState::Failed {
                    error: failure.error.one_line(),
                    failed_version: failure.hash.clone(),
                },
            },
            last_load: format_utc(last_load),
        }
    }
}

/// A time as `2025-03-01T12:00:00Z`.
pub fn format_utc(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn utc_times_are_rfc3339() {
        assert_eq!(format_utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let leap_day = UNIX_EPOCH + Duration::from_secs(951_782_400 + 3_661);
        assert_eq!(format_utc(leap_day), "2000-02-29T01:01:01Z");
    }
}
