//! File-system helpers shared by the engines: atomic writes, so that a crash or a full disk never
//! leaves a torn file behind.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Write `contents` to `path` atomically: a temporary file in the same directory, fsync, rename.
/// Parent directories are created. If `executable` is set the file gets mode 0755, else 0644.
pub fn write_atomic(path: &Path, contents: &[u8], executable: bool) -> std::io::Result<()> {
    write_atomic_with(path, contents, executable, true)
}

/// [`write_atomic`] without the `fsync`: for output that can be regenerated at any time, where
/// readers must never see a torn file but surviving a power cut is not worth a disk flush per file.
pub fn write_atomic_unsynced(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, contents, false, false)
}

fn write_atomic_with(
    path: &Path,
    contents: &[u8],
    executable: bool,
    durable: bool,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs_err::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".fsi-tmp-")
        .tempfile_in(dir)?;
    tmp.write_all(contents)?;
    if durable {
        tmp.as_file().sync_all()?;
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if executable { 0o755 } else { 0o644 };
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// One change of a [`apply_all`] transaction: write `contents` to `path`, or remove it (`None`).
#[derive(Debug, Clone)]
pub struct FileChange<'a> {
    pub path: PathBuf,
    pub contents: Option<&'a [u8]>,
    pub executable: bool,
}

/// Why [`apply_all`] changed nothing: the path it stopped at and the error.
#[derive(Debug)]
pub struct ApplyError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Apply a set of file changes all-or-nothing (as far as the file system lets anything be):
///
/// 1. every new content goes to a temporary file beside its target (`.fsi-tmp-*`); a target
///    that is a directory, a parent that is a file, a full disk or a permission problem stops
///    here, and the temporary files and the directories made for them are removed;
/// 2. every file to be replaced or removed is kept under a backup name (`.fsi-bak-*`, a hard
///    link, or a rename for removals);
/// 3. the temporary files are renamed over their targets and the removals done; should one of
///    these fail, every target already replaced gets its backup back (or is removed when it is
///    new), so the tree is as it was;
/// 4. the backups are deleted.
///
/// `cancelled` is asked between the writes of step 1: when it says yes, nothing has changed and
/// the error is [`std::io::ErrorKind::Interrupted`].
pub fn apply_all(
    changes: &[FileChange<'_>],
    durable: bool,
    cancelled: &dyn Fn() -> bool,
) -> Result<(), ApplyError> {
    let mut tx = Transaction::default();
    match tx.run(changes, durable, cancelled) {
        Ok(()) => {
            tx.commit();
            Ok(())
        }
        Err(e) => {
            tx.roll_back();
            Err(e)
        }
    }
}

#[derive(Default)]
struct Transaction {
    /// Directories created for new files, outermost first.
    made_dirs: Vec<PathBuf>,
    /// Staged contents: (temporary file, target).
    staged: Vec<(tempfile::TempPath, PathBuf)>,
    /// Backups of replaced or removed targets: (backup, target).
    backups: Vec<(PathBuf, PathBuf)>,
    /// Targets renamed into place so far, and whether they have a backup.
    placed: Vec<PathBuf>,
    removed: Vec<PathBuf>,
}

impl Transaction {
    fn run(
        &mut self,
        changes: &[FileChange<'_>],
        durable: bool,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<(), ApplyError> {
        let err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ApplyError { path, source }
        };
        // 1. Stage.
        for c in changes {
            if cancelled() {
                return Err(ApplyError {
                    path: c.path.clone(),
                    source: std::io::Error::from(std::io::ErrorKind::Interrupted),
                });
            }
            let Some(contents) = c.contents else {
                continue;
            };
            if c.path.is_dir() {
                return Err(ApplyError {
                    path: c.path.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::IsADirectory,
                        "a directory stands where this file belongs",
                    ),
                });
            }
            let dir = match c.path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            self.make_dir(dir).map_err(err(dir))?;
            let mut tmp = tempfile::Builder::new()
                .prefix(".fsi-tmp-")
                .tempfile_in(dir)
                .map_err(err(&c.path))?;
            tmp.write_all(contents).map_err(err(&c.path))?;
            if durable {
                tmp.as_file().sync_all().map_err(err(&c.path))?;
            }
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = if c.executable { 0o755 } else { 0o644 };
                tmp.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(mode))
                    .map_err(err(&c.path))?;
            }
            self.staged.push((tmp.into_temp_path(), c.path.clone()));
        }
        // 2. Back up what will be replaced or removed.
        for c in changes {
            match std::fs::symlink_metadata(&c.path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(ApplyError {
                        path: c.path.clone(),
                        source: e,
                    });
                }
            }
            let backup = backup_name(&c.path);
            let linked = if c.contents.is_some() {
                std::fs::hard_link(&c.path, &backup)
            } else {
                std::fs::rename(&c.path, &backup).inspect(|_| self.removed.push(c.path.clone()))
            };
            match linked {
                Ok(()) => self.backups.push((backup, c.path.clone())),
                // A file system without hard links: this file cannot be restored, but the
                // transaction goes on (the write itself is still atomic).
                Err(e) if c.contents.is_some() && e.kind() == std::io::ErrorKind::Unsupported => {}
                Err(e) => {
                    return Err(ApplyError {
                        path: c.path.clone(),
                        source: e,
                    });
                }
            }
        }
        // 3. Put the new contents in place.
        for (tmp, target) in std::mem::take(&mut self.staged) {
            if let Err(e) = tmp.persist(&target) {
                self.staged.push((e.path, target.clone()));
                return Err(ApplyError {
                    path: target,
                    source: e.error,
                });
            }
            self.placed.push(target);
        }
        Ok(())
    }

    fn make_dir(&mut self, dir: &Path) -> std::io::Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        let mut missing = Vec::new();
        let mut d = dir;
        while !d.exists() {
            missing.push(d.to_path_buf());
            match d.parent() {
                Some(p) if !p.as_os_str().is_empty() => d = p,
                _ => break,
            }
        }
        for m in missing.into_iter().rev() {
            fs_err::create_dir(&m)?;
            self.made_dirs.push(m);
        }
        Ok(())
    }

    fn commit(self) {
        for (backup, _) in &self.backups {
            let _ = std::fs::remove_file(backup);
        }
    }

    fn roll_back(mut self) {
        let backed_up: std::collections::HashMap<&PathBuf, &PathBuf> =
            self.backups.iter().map(|(b, t)| (t, b)).collect();
        for target in &self.placed {
            match backed_up.get(target) {
                Some(backup) => {
                    let _ = std::fs::rename(backup, target);
                }
                None => {
                    let _ = std::fs::remove_file(target);
                }
            }
        }
        for target in &self.removed {
            if let Some(backup) = backed_up.get(target) {
                let _ = std::fs::rename(backup, target);
            }
        }
        // Backups of files that were never replaced are plain extra links.
        for (backup, target) in &self.backups {
            if !self.placed.contains(target) && !self.removed.contains(target) {
                let _ = std::fs::remove_file(backup);
            }
        }
        self.staged.clear(); // TempPath removes its file on drop
        for d in self.made_dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

fn backup_name(path: &Path) -> PathBuf {
    let mut bytes = [0u8; 6];
    let _ = getrandom::fill(&mut bytes);
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".fsi-bak-{suffix}-{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/c.txt");
        write_atomic(&p, b"one", false).unwrap();
        write_atomic(&p, b"two", true).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o755
        );
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("c.txt")]);
    }

    #[test]
    fn apply_all_changes_nothing_when_one_write_cannot_be_made() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.ts"), "old a").unwrap();
        std::fs::write(root.join("gone.ts"), "orphan").unwrap();
        std::fs::create_dir(root.join("c.ts")).unwrap(); // a directory where a file belongs
        let changes = [
            FileChange {
                path: root.join("a.ts"),
                contents: Some(b"new a"),
                executable: false,
            },
            FileChange {
                path: root.join("sub/b.ts"),
                contents: Some(b"new b"),
                executable: false,
            },
            FileChange {
                path: root.join("gone.ts"),
                contents: None,
                executable: false,
            },
            FileChange {
                path: root.join("c.ts"),
                contents: Some(b"new c"),
                executable: false,
            },
        ];
        let err = apply_all(&changes, false, &|| false).unwrap_err();
        assert_eq!(err.path, root.join("c.ts"));
        assert_eq!(std::fs::read_to_string(root.join("a.ts")).unwrap(), "old a");
        assert_eq!(
            std::fs::read_to_string(root.join("gone.ts")).unwrap(),
            "orphan"
        );
        assert!(
            !root.join("sub").exists(),
            "the directory made for b.ts is gone again"
        );
        let mut names: Vec<_> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["a.ts", "c.ts", "gone.ts"]);

        // Without the obstacle, everything is applied and nothing extra is left.
        std::fs::remove_dir(root.join("c.ts")).unwrap();
        apply_all(&changes, true, &|| false).unwrap();
        assert_eq!(std::fs::read_to_string(root.join("a.ts")).unwrap(), "new a");
        assert_eq!(
            std::fs::read_to_string(root.join("sub/b.ts")).unwrap(),
            "new b"
        );
        assert_eq!(std::fs::read_to_string(root.join("c.ts")).unwrap(), "new c");
        assert!(!root.join("gone.ts").exists());
        let mut names: Vec<_> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["a.ts", "c.ts", "sub"]);
    }

    #[test]
    fn apply_all_stops_untouched_when_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x/y.txt");
        let changes = [FileChange {
            path: p.clone(),
            contents: Some(b"y"),
            executable: false,
        }];
        let err = apply_all(&changes, false, &|| true).unwrap_err();
        assert_eq!(err.source.kind(), std::io::ErrorKind::Interrupted);
        assert!(!dir.path().join("x").exists());
    }
}
