//! File-system helpers shared by the engines: atomic writes, so that a crash or a full disk never
//! leaves a torn file behind.

use std::io::Write;
use std::path::Path;

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
}
