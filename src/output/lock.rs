//! One writer per output folder: a run, a calibration, a merge or a report holds an exclusive
//! lock on `OUT/.lock` while it works, and a second one into the same folder is refused at once
//! instead of mixing two experiments' tables. The lock is the operating system's advisory file
//! lock (`flock` on Unix), so a killed writer leaves no stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use super::OutputError;

/// The lock file's name inside an output folder.
pub const LOCK_FILE: &str = ".lock";

/// Held while a process writes into an output folder; released when dropped (or when the
/// process ends, however it ends).
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

impl FolderLock {
    /// Creates `dir` if needed and takes its lock, or says who holds it.
    pub fn acquire(dir: &Path) -> Result<Self, OutputError> {
        let path = dir.join(LOCK_FILE);
        let fail = |message: String| OutputError {
            path: path.clone(),
            message,
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| fail(e.to_string()))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => Err(fail(format!(
                "another backstop process is writing into {} (a run, merge, calibration or \
                 report); wait for it to finish, or choose another --out",
                dir.display()
            ))),
            Err(TryLockError::Error(e)) => Err(fail(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_until_the_first_lets_go() {
        let dir = std::env::temp_dir().join(format!("backstop-lock-{}", std::process::id()));
        let first = FolderLock::acquire(&dir).unwrap();
        let e = FolderLock::acquire(&dir).unwrap_err();
        assert!(e.message.contains("another backstop process"), "{e}");
        drop(first);
        assert!(FolderLock::acquire(&dir).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
