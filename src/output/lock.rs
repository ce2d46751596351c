//! One writer per output folder: a run, a calibration, a merge or a report holds an exclusive
//! lock on `OUT/.lock` while it works, and a second one into the same folder is refused at once
//! instead of mixing two experiments' tables. The lock is the operating system's advisory file
//! lock (`flock` on Unix), so a killed writer leaves no stale lock behind; whoever takes the
//! lock next removes the temporaries such a writer left.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use super::error::OutputError;
use super::paths::PARTS_DIR;

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
        std::fs::create_dir_all(dir).map_err(|e| OutputError::at(&path, e))?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| OutputError::at(&path, e))?;
        match file.try_lock() {
            Ok(()) => {
                remove_stale_temporaries(dir);
                remove_stale_temporaries(&dir.join(PARTS_DIR));
                Ok(Self { _file: file })
            }
            Err(TryLockError::WouldBlock) => Err(OutputError::at(
                &path,
                format!(
                    "another backstop process is writing into {} (a run, merge, calibration or \
                 report); wait for it to finish, or choose another --out",
                    dir.display()
                ),
            )),
            Err(TryLockError::Error(e)) => Err(OutputError::at(&path, e)),
        }
    }
}

/// Whether `name` is one of backstop's temporaries: `.NAME.PID.tmp` (an atomic write) or
/// `NAME.parquet.PID.tmp` (a streamed table).
fn is_temporary(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".tmp") else {
        return false;
    };
    let Some((head, pid)) = stem.rsplit_once('.') else {
        return false;
    };
    !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && (head.starts_with('.') || head.ends_with(".parquet"))
}

/// With the lock held nobody else writes here, so any temporary left in `dir` is from a
/// writer that was killed: removed (best effort; what cannot be removed is left alone).
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if is_temporary(&e.file_name().to_string_lossy()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporaries_of_killed_writers_are_removed_and_nothing_else() {
        assert!(is_temporary(".summary.csv.4242.tmp"));
        assert!(is_temporary("runs.parquet.17.tmp"));
        assert!(!is_temporary("notes.tmp"));
        assert!(!is_temporary("mine.1.tmp"));
        assert!(!is_temporary(".x.12a.tmp"));
        let dir = std::env::temp_dir().join(format!("backstop-tmp-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("parts")).unwrap();
        for f in [
            "runs.parquet.99.tmp",
            "parts/.unit-000000.parquet.99.tmp",
            "keep.tmp",
        ] {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        let lock = FolderLock::acquire(&dir).unwrap();
        assert!(!dir.join("runs.parquet.99.tmp").exists());
        assert!(!dir.join("parts/.unit-000000.parquet.99.tmp").exists());
        assert!(dir.join("keep.tmp").exists());
        drop(lock);
        let _ = std::fs::remove_dir_all(&dir);
    }

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
