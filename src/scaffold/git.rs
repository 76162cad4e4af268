//! The first commit of a new project.
//!
//! [`git_init`] is the plain way: libgit2 reads the files back and adds everything. For a project
//! fsi has just written, [`git_init_files`] commits from memory instead: blob ids are hashed from
//! the bytes fsi still holds, libgit2 builds the index, the trees and the commit (into an
//! in-memory object store), and the objects go to disk as one packfile with its index, written
//! here in the documented format (gitformat-pack(5)). That skips what costs most in a fresh
//! repository — reading every file back, one zlib stream per loose object, and libgit2's pack
//! indexer hashing and inflating every object a second time — while `git fsck --strict` still
//! agrees (tests/scaffold_engine.rs).

use std::io::Write;
use std::path::Path;

use sha1::{Digest, Sha1};

use super::ScaffoldError;

/// `git init` with branch `main`, everything added, and a first commit.
pub fn git_init(root: &Path, message: &str) -> Result<String, ScaffoldError> {
    git_commit_first(root, message, None)
}

/// One file of a new project, as [`git_init_files`] commits it.
#[derive(Debug, Clone, Copy)]
pub struct GitFile<'a> {
    /// Relative to the root, `/`-separated.
    pub path: &'a str,
    pub contents: &'a [u8],
    pub executable: bool,
}

/// [`git_init`] for a project whose files fsi has just written and still holds in memory:
/// blobs come from memory and index entries from one `stat` each, instead of libgit2 reading
/// every file back and looking up `.gitattributes` filters for it. Ignored files (`.env`) are
/// left out, as `git add` would.
pub fn git_init_files(
    root: &Path,
    message: &str,
    files: &[GitFile<'_>],
) -> Result<String, ScaffoldError> {
    git_commit_first(root, message, Some(files))
}

fn git_commit_first(
    root: &Path,
    message: &str,
    files: Option<&[GitFile<'_>]>,
) -> Result<String, ScaffoldError> {
    let git = |source: git2::Error| ScaffoldError::Git {
        path: root.to_path_buf(),
        source,
    };
    let io = |path: std::path::PathBuf| move |source| ScaffoldError::Io { path, source };
    let mut opts = git2::RepositoryInitOptions::new();
    opts.initial_head("main");
    match std::env::var_os("GIT_TEMPLATE_DIR").filter(|d| !d.is_empty()) {
        // As `git init` does (libgit2 itself does not read the variable).
        Some(dir) => {
            opts.external_template(true).template_path(Path::new(&dir));
        }
        None => {
            opts.external_template(template_dir_configured());
        }
    }
    let repo = git2::Repository::init_opts(root, &opts).map_err(git)?;
    let Some(files) = files else {
        let mut index = repo.index().map_err(git)?;
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .map_err(git)?;
        let tree_id = index.write_tree().map_err(git)?;
        index.write().map_err(git)?;
        let oid = commit(&repo, tree_id, message, true).map_err(git)?;
        return Ok(oid.to_string()[..7].to_string());
    };

    let odb = repo.odb().map_err(git)?;
    // Trees and the commit go to memory first and to disk in the packfile below.
    let mempack = odb.add_new_mempack_backend(1000).map_err(git)?;
    let mut index = repo.index().map_err(git)?;
    // The blobs go into the pack without ever being in the object store: libgit2 must accept
    // index entries and trees naming them without looking them up. The option is process-wide,
    // so it is restored when this function returns.
    let _relaxed = RelaxedObjectChecks::new();
    let mut blobs: std::collections::HashMap<git2::Oid, &[u8]> = Default::default();
    for f in files {
        if repo.is_path_ignored(f.path).map_err(git)? {
            continue;
        }
        let id = object_id("blob", f.contents);
        blobs.insert(id, f.contents);
        let path = root.join(f.path);
        let meta = fs_err::symlink_metadata(&path).map_err(io(path))?;
        index.add(&index_entry(f, id, &meta)).map_err(git)?;
    }
    let tree_id = index.write_tree().map_err(git)?;
    let tree = repo.find_tree(tree_id).map_err(git)?;
    // Create the commit object; HEAD moves only once the pack is on disk.
    let oid = commit(&repo, tree_id, message, false).map_err(git)?;

    let mut objects: Vec<(git2::Oid, Kind, ObjectBytes<'_>)> = Vec::with_capacity(blobs.len() + 64);
    let mut read = |id: git2::Oid, kind: Kind| -> Result<(), git2::Error> {
        objects.push((id, kind, ObjectBytes::Owned(odb.read(id)?.data().to_vec())));
        Ok(())
    };
    read(oid, Kind::Commit).map_err(git)?;
    read(tree_id, Kind::Tree).map_err(git)?;
    let mut failed = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
        if entry.kind() == Some(git2::ObjectType::Tree)
            && let Err(e) = read(entry.id(), Kind::Tree)
        {
            failed = Some(e);
            return git2::TreeWalkResult::Abort;
        }
        git2::TreeWalkResult::Ok
    })
    .map_err(git)?;
    if let Some(e) = failed {
        return Err(git(e));
    }
    objects.extend(
        blobs
            .iter()
            .map(|(id, data)| (*id, Kind::Blob, ObjectBytes::Memory(data))),
    );
    let pack_dir = repo.path().join("objects/pack");
    write_pack(&pack_dir, &mut objects).map_err(io(pack_dir))?;
    drop(objects);
    mempack.reset().map_err(git)?;
    index.write().map_err(git)?;
    repo.reference("refs/heads/main", oid, true, message)
        .map_err(git)?;
    Ok(oid.to_string()[..7].to_string())
}

/// Whether the user set `init.templateDir` (often to install hooks in every new repository).
/// Without it, `git init` copies the system's template — thirteen inert `*.sample` hooks — and
/// fsi uses libgit2's minimal built-in template instead, which skips copying them.
fn template_dir_configured() -> bool {
    git2::Config::open_default()
        .and_then(|c| c.get_path("init.templatedir"))
        .is_ok()
}

/// The commit of `tree` with the user's identity (or fsi's), optionally moving HEAD.
fn commit(
    repo: &git2::Repository,
    tree: git2::Oid,
    message: &str,
    update_head: bool,
) -> Result<git2::Oid, git2::Error> {
    let tree = repo.find_tree(tree)?;
    let sig = repo
        .signature()
        .or_else(|_| git2::Signature::now("fsi", "fsi@localhost"))?;
    repo.commit(
        update_head.then_some("HEAD"),
        &sig,
        &sig,
        message,
        &tree,
        &[],
    )
}

/// An index entry for a file just written, with the stat data git compares on `git status`.
fn index_entry(f: &GitFile<'_>, id: git2::Oid, meta: &std::fs::Metadata) -> git2::IndexEntry {
    use std::os::unix::fs::MetadataExt;
    git2::IndexEntry {
        ctime: git2::IndexTime::new(meta.ctime() as i32, meta.ctime_nsec() as u32),
        mtime: git2::IndexTime::new(meta.mtime() as i32, meta.mtime_nsec() as u32),
        dev: meta.dev() as u32,
        ino: meta.ino() as u32,
        mode: if f.executable { 0o100755 } else { 0o100644 },
        uid: meta.uid(),
        gid: meta.gid(),
        file_size: meta.len() as u32,
        id,
        flags: f.path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: f.path.as_bytes().to_vec(),
    }
}

/// A git object id: SHA-1 over `"<kind> <len>\0"` and the bytes.
fn object_id(kind: &str, data: &[u8]) -> git2::Oid {
    let mut h = Sha1::new();
    h.update(kind.as_bytes());
    h.update(b" ");
    h.update(data.len().to_string().as_bytes());
    h.update([0]);
    h.update(data);
    git2::Oid::from_bytes(&h.finalize()).expect("a SHA-1 is 20 bytes")
}

/// libgit2's strict object creation off for as long as any of these lives (counted, so that
/// concurrent first commits in one process do not switch it back on under each other).
struct RelaxedObjectChecks;

static RELAXED: std::sync::Mutex<usize> = std::sync::Mutex::new(0);

impl RelaxedObjectChecks {
    fn new() -> RelaxedObjectChecks {
        let mut n = RELAXED.lock().unwrap_or_else(|e| e.into_inner());
        if *n == 0 {
            git2::opts::strict_object_creation(false);
        }
        *n += 1;
        RelaxedObjectChecks
    }
}

impl Drop for RelaxedObjectChecks {
    fn drop(&mut self) {
        let mut n = RELAXED.lock().unwrap_or_else(|e| e.into_inner());
        *n -= 1;
        if *n == 0 {
            git2::opts::strict_object_creation(true);
        }
    }
}

/// Pack object types (gitformat-pack(5)).
#[derive(Debug, Clone, Copy)]
enum Kind {
    Commit = 1,
    Tree = 2,
    Blob = 3,
}

/// An object's bytes: a file fsi holds, or a tree or commit copied out of libgit2's store.
enum ObjectBytes<'a> {
    Memory(&'a [u8]),
    Owned(Vec<u8>),
}

impl ObjectBytes<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            ObjectBytes::Memory(b) => b,
            ObjectBytes::Owned(b) => b,
        }
    }
}

/// Write `objects` into `dir` as `pack-<checksum>.pack` and its version-2 `.idx`, the index
/// last (git looks packs up through their index). No deltas: a fresh project's objects are all
/// distinct, so a delta search costs more than it saves.
fn write_pack(
    dir: &Path,
    objects: &mut [(git2::Oid, Kind, ObjectBytes<'_>)],
) -> std::io::Result<()> {
    objects.sort_unstable_by_key(|(id, ..)| *id);
    let total: usize = objects.iter().map(|(.., b)| b.bytes().len()).sum();
    let mut pack = Vec::with_capacity(total / 2 + 64 * objects.len() + 32);
    pack.extend_from_slice(b"PACK");
    pack.extend_from_slice(&2u32.to_be_bytes());
    pack.extend_from_slice(&(objects.len() as u32).to_be_bytes());
    // Compressing is most of the work; the objects are split into byte-balanced runs, one per
    // core, each compressed into its own buffer, then concatenated.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let threads = if total < 128 * 1024 { 1 } else { threads };
    let mut runs: Vec<&[(git2::Oid, Kind, ObjectBytes<'_>)]> = Vec::with_capacity(threads);
    let mut rest: &[(git2::Oid, Kind, ObjectBytes<'_>)] = objects;
    for left in (1..=threads).rev() {
        let budget = rest.iter().map(|(.., b)| b.bytes().len()).sum::<usize>() / left;
        let (mut n, mut bytes) = (0, 0);
        while n < rest.len() && (bytes < budget || left == 1) {
            bytes += rest[n].2.bytes().len();
            n += 1;
        }
        let (run, tail) = rest.split_at(n);
        runs.push(run);
        rest = tail;
    }
    let compressed: Vec<std::io::Result<Compressed>> = if threads == 1 {
        runs.iter().map(|run| compress_run(run)).collect()
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = runs[1..]
                .iter()
                .map(|run| s.spawn(move || compress_run(run)))
                .collect();
            let mut out = vec![compress_run(runs[0])];
            out.extend(
                handles
                    .into_iter()
                    .map(|h| h.join().expect("compression does not panic")),
            );
            out
        })
    };
    let mut entries = Vec::with_capacity(objects.len());
    for part in compressed {
        let part = part?;
        let base = pack.len();
        pack.extend_from_slice(&part.bytes);
        entries.extend(
            part.entries
                .into_iter()
                .map(|(id, at, crc)| (id, base + at, crc)),
        );
    }
    let checksum: [u8; 20] = Sha1::digest(&pack).into();
    pack.extend_from_slice(&checksum);

    // The index: header, fan-out table, sorted ids, CRC-32s, offsets, pack and index checksums.
    let mut idx = Vec::with_capacity(8 + 256 * 4 + entries.len() * 28 + 40);
    idx.extend_from_slice(b"\xfftOc");
    idx.extend_from_slice(&2u32.to_be_bytes());
    let mut fanout = [0u32; 256];
    for (id, ..) in &entries {
        fanout[id.as_bytes()[0] as usize] += 1;
    }
    let mut running = 0;
    for n in fanout {
        running += n;
        idx.extend_from_slice(&running.to_be_bytes());
    }
    for (id, ..) in &entries {
        idx.extend_from_slice(id.as_bytes());
    }
    for (_, _, crc) in &entries {
        idx.extend_from_slice(&crc.to_be_bytes());
    }
    let mut large = Vec::new();
    for (_, offset, _) in &entries {
        match u32::try_from(*offset) {
            Ok(o) if o < 0x8000_0000 => idx.extend_from_slice(&o.to_be_bytes()),
            _ => {
                idx.extend_from_slice(&(0x8000_0000 | large.len() as u32).to_be_bytes());
                large.push(*offset as u64);
            }
        }
    }
    for o in large {
        idx.extend_from_slice(&o.to_be_bytes());
    }
    idx.extend_from_slice(&checksum);
    let idx_checksum: [u8; 20] = Sha1::digest(&idx).into();
    idx.extend_from_slice(&idx_checksum);

    let name: String = checksum.iter().map(|b| format!("{b:02x}")).collect();
    write_readonly(&dir.join(format!("pack-{name}.pack")), &pack)?;
    write_readonly(&dir.join(format!("pack-{name}.idx")), &idx)
}

/// Pack entries for a run of objects: the bytes, and each object's id, offset in the bytes and CRC-32.
struct Compressed {
    bytes: Vec<u8>,
    entries: Vec<(git2::Oid, usize, u32)>,
}

/// Each object as a pack entry: its type-and-size header, then its zlib stream.
fn compress_run(objects: &[(git2::Oid, Kind, ObjectBytes<'_>)]) -> std::io::Result<Compressed> {
    let total: usize = objects.iter().map(|(.., b)| b.bytes().len()).sum();
    let mut out = Vec::with_capacity(total / 2 + 64 * objects.len());
    let mut entries = Vec::with_capacity(objects.len());
    let mut z = flate2::Compress::new(flate2::Compression::fast(), true);
    for (id, kind, bytes) in objects {
        let data = bytes.bytes();
        let offset = out.len();
        // Type and size: 3 bits of type, then the size, 4 bits first and 7 bits per byte after.
        let mut size = data.len();
        let mut byte = ((*kind as u8) << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            out.push(byte | 0x80);
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        out.push(byte);
        z.reset();
        loop {
            out.reserve(data.len() / 2 + 64);
            let consumed = z.total_in() as usize;
            let status = z
                .compress_vec(&data[consumed..], &mut out, flate2::FlushCompress::Finish)
                .map_err(std::io::Error::other)?;
            if status == flate2::Status::StreamEnd {
                break;
            }
        }
        entries.push((*id, offset, crc32fast::hash(&out[offset..])));
    }
    Ok(Compressed {
        bytes: out,
        entries,
    })
}

/// Create a new file with mode 0444, as git leaves packs.
fn write_readonly(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o444)
        .open(path)?;
    f.write_all(contents)
}
