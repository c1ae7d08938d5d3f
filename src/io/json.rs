//! JSON files (model metadata, results, targets): written atomically, read with the file and line
//! named in errors.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::io::atomic;

/// Write pretty JSON atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::format(path, format!("cannot encode JSON: {e}")))?;
    atomic::write_bytes(path, text.as_bytes())
}

/// Read JSON, naming the file and line on error.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        // The line goes in front, like every other error; serde_json also appends it.
        let msg = e.to_string();
        let msg = msg
            .strip_suffix(&format!(" at line {} column {}", e.line(), e.column()))
            .unwrap_or(&msg);
        Error::at_line(path, e.line(), msg)
    })
}
