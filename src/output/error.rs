//! The one error of output: a file that could not be read or written, and why. Every writer
//! and reader in output/ builds it through [`OutputError::at`], so a message always names the
//! file it is about.

use std::path::{Path, PathBuf};

/// An output that could not be written: which file and why.
#[derive(Debug)]
pub struct OutputError {
    pub path: PathBuf,
    pub message: String,
}

impl OutputError {
    /// The error `e` (an io, polars or plotting error, or a sentence) about the file at `path`.
    pub fn at(path: &Path, e: impl std::fmt::Display) -> Self {
        Self {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for OutputError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_file_then_the_reason() {
        let e = OutputError::at(Path::new("out/runs.parquet"), "is damaged");
        assert_eq!(e.path, PathBuf::from("out/runs.parquet"));
        assert_eq!(e.to_string(), "out/runs.parquet: is damaged");
    }
}
