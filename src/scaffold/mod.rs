//! The scaffold engine: embedded skeletons → a plan of files → atomic writes → git.
//!
//! Plan, then act: [`plan`] renders every file into memory (so `--dry-run`, snapshot tests and
//! the all-feature-combinations test need no disk), [`write`] puts a plan on disk all-or-nothing,
//! and [`git_init`] makes the first commit. Nothing here prints or prompts.

mod gates;
mod render;

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde::{Deserialize, Serialize};

pub use gates::{Condition, Gate};
pub use render::ScaffoldError;

/// The skeleton tree, embedded at build time (build.rs re-runs when files are added).
pub static SKELETONS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/skeletons");

/// The database a generated project uses by default in development.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Database {
    /// A SQLite file: runs with no server.
    #[default]
    Sqlite,
    /// PostgreSQL through DATABASE_URL.
    Postgresql,
}

impl Database {
    pub fn as_str(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgresql => "postgresql",
        }
    }
}

/// The answers given to `fsi new`, saved in fsi.toml `[answers]` so that later commands can
/// re-apply them.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Answers {
    /// Auth module, protected routes, item ownership.
    pub auth: bool,
    /// WebSocket channels and live updates.
    pub realtime: bool,
    /// docker-compose.prod.yml, Dockerfiles, nginx config, .env.example.
    pub deploy: bool,
    pub database: Database,
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            auth: true,
            realtime: true,
            deploy: true,
            database: Database::Sqlite,
        }
    }
}

impl Answers {
    /// Every combination of the answers, for render-everything tests.
    pub fn all_combinations() -> Vec<Answers> {
        let mut out = Vec::new();
        for bits in 0..16u8 {
            out.push(Answers {
                auth: bits & 1 != 0,
                realtime: bits & 2 != 0,
                deploy: bits & 4 != 0,
                database: if bits & 8 != 0 {
                    Database::Postgresql
                } else {
                    Database::Sqlite
                },
            });
        }
        out
    }

    /// The value of a feature by name, for gate conditions.
    pub fn feature(&self, name: &str) -> Option<bool> {
        match name {
            "auth" => Some(self.auth),
            "realtime" => Some(self.realtime),
            "deploy" => Some(self.deploy),
            _ => None,
        }
    }
}

/// The names derived from the project name that templates use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Names {
    pub project_name: String,
    pub project_slug: String,
    pub package_name: String,
    pub project_title: String,
    #[serde(rename = "PROJECT")]
    pub project_upper: String,
}

impl Names {
    /// Derive the names from a project name, or say why it is not usable.
    pub fn new(name: &str) -> Result<Names, ScaffoldError> {
        let lowered = name.trim().to_lowercase().replace(['_', ' '], "-");
        let valid = !lowered.is_empty()
            && lowered.starts_with(|c: char| c.is_ascii_lowercase())
            && lowered
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !lowered.ends_with('-')
            && !lowered.contains("--");
        if !valid {
            return Err(ScaffoldError::BadName {
                name: name.to_string(),
            });
        }
        let words: Vec<&str> = lowered.split('-').collect();
        let title = words
            .iter()
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Names {
            project_name: lowered.clone(),
            project_slug: lowered.clone(),
            package_name: words.join("_"),
            project_title: title,
            project_upper: words.join("_").to_uppercase(),
        })
    }
}

/// Everything a render needs. Secrets are inputs so that a render is a pure function.
#[derive(Debug, Clone)]
pub struct Request {
    pub names: Names,
    pub answers: Answers,
    /// 64 hex characters; rendered only into the git-ignored `.env`.
    pub jwt_secret: String,
}

/// One file of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Relative to the project root, with `/` separators.
    pub path: String,
    pub contents: Vec<u8>,
    pub executable: bool,
    /// The skeleton file it came from (for messages).
    pub source: String,
}

/// The complete list of files a scaffold would write.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub files: Vec<PlannedFile>,
}

impl Plan {
    pub fn get(&self, path: &str) -> Option<&PlannedFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// Add (or replace) a file computed outside the skeletons, such as fsi.toml.
    pub fn insert(&mut self, file: PlannedFile) {
        match self.files.iter_mut().find(|f| f.path == file.path) {
            Some(existing) => *existing = file,
            None => {
                self.files.push(file);
                self.files.sort_by(|a, b| a.path.cmp(&b.path));
            }
        }
    }
}

/// Render the embedded skeletons for a request.
pub fn plan(request: &Request) -> Result<Plan, ScaffoldError> {
    plan_from(&SKELETONS, request)
}

/// Render a skeleton tree (the embedded one, or a test fixture) for a request.
pub fn plan_from(skeletons: &Dir<'_>, request: &Request) -> Result<Plan, ScaffoldError> {
    let gates = gates::load(skeletons)?;
    let project = skeletons
        .get_dir("project")
        .ok_or(ScaffoldError::NoProjectDir)?;
    let mut sources = Vec::new();
    collect_files(project, &mut sources);
    sources.sort_by(|a, b| a.path().cmp(b.path()));

    let renderer = render::Renderer::new(request);
    let mut files = Vec::with_capacity(sources.len());
    for file in sources {
        let rel = file
            .path()
            .strip_prefix("project")
            .expect("files live under project/");
        let rel = rel.to_string_lossy().replace('\\', "/");
        if !gates::allowed(&gates, &rel, &request.answers) {
            continue;
        }
        let (out_path, contents) = match rel.strip_suffix(".jinja") {
            Some(stripped) => {
                let rendered = renderer.render(&format!("project/{rel}"), file.contents())?;
                if rendered.trim().is_empty() {
                    continue;
                }
                (stripped.to_string(), rendered.into_bytes())
            }
            None => (rel.clone(), file.contents().to_vec()),
        };
        let executable = contents.starts_with(b"#!");
        files.push(PlannedFile {
            path: out_path,
            contents,
            executable,
            source: format!("skeletons/project/{rel}"),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Plan { files })
}

fn collect_files<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    for f in dir.files() {
        out.push(f);
    }
    for d in dir.dirs() {
        collect_files(d, out);
    }
}

/// How [`write`] treats an existing target directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse a target that exists and is not empty.
    Refuse,
    /// Write into it, replacing files the plan names; other files are left alone.
    Overwrite,
}

/// What [`write`] did.
#[derive(Debug, Clone)]
pub struct Written {
    pub root: PathBuf,
    pub files: usize,
}

/// Put a plan on disk: [`stage`] then [`Staged::finish`], with nothing in between.
pub fn write(plan: &Plan, target: &Path, existing: Existing) -> Result<Written, ScaffoldError> {
    stage(plan, target, existing)?.finish()
}

/// A plan written where it can still be completed (types, git) before it appears at its target.
#[derive(Debug)]
pub struct Staged {
    /// Where the files are now: a hidden staging directory beside the target, or the target
    /// itself when writing into an existing non-empty directory (`--force`).
    pub dir: PathBuf,
    target: PathBuf,
    files: usize,
    /// Still to be moved to the target; dropped (and deleted) on failure.
    staging: Option<tempfile::TempDir>,
}

impl Staged {
    /// Move the staged project to its target (one rename for a new target).
    pub fn finish(mut self) -> Result<Written, ScaffoldError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ScaffoldError::Io { path, source }
        };
        if let Some(staging) = self.staging.take() {
            if self.target.is_dir() {
                // An empty directory the user made (perhaps their cwd): keep it, move the
                // contents in.
                for entry in fs_err::read_dir(staging.path()).map_err(io(staging.path()))? {
                    let entry = entry.map_err(io(staging.path()))?;
                    let dest = self.target.join(entry.file_name());
                    fs_err::rename(entry.path(), &dest).map_err(io(&dest))?;
                }
            } else {
                let staged = staging.keep();
                if let Err(source) = fs_err::rename(&staged, &self.target) {
                    let _ = fs_err::remove_dir_all(&staged);
                    return Err(ScaffoldError::Io {
                        path: self.target.clone(),
                        source,
                    });
                }
            }
        }
        Ok(Written {
            root: self.target.clone(),
            files: self.files,
        })
    }
}

/// Write a plan where it can be completed before it appears: a new (or empty) target is built in
/// a hidden staging directory beside it, so a failure before [`Staged::finish`] leaves nothing
/// behind (the staging directory is deleted when the [`Staged`] is dropped). With
/// [`Existing::Overwrite`] each file is replaced atomically in place.
pub fn stage(plan: &Plan, target: &Path, existing: Existing) -> Result<Staged, ScaffoldError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ScaffoldError::Io { path, source }
    };
    let non_empty = target.exists()
        && (!target.is_dir()
            || fs_err::read_dir(target)
                .map_err(io(target))?
                .next()
                .is_some());
    if non_empty && existing == Existing::Refuse {
        return Err(ScaffoldError::TargetNotEmpty {
            path: target.to_path_buf(),
        });
    }
    if non_empty {
        for f in &plan.files {
            let dest = target.join(&f.path);
            crate::fsutil::write_atomic(&dest, &f.contents, f.executable).map_err(io(&dest))?;
        }
        return Ok(Staged {
            dir: target.to_path_buf(),
            target: target.to_path_buf(),
            files: plan.files.len(),
            staging: None,
        });
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs_err::create_dir_all(&parent).map_err(io(&parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".fsi-new-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    let mut made = std::collections::HashSet::new();
    for f in &plan.files {
        let dest = staging.path().join(&f.path);
        if let Some(dir) = dest.parent()
            && made.insert(dir.to_path_buf())
        {
            fs_err::create_dir_all(dir).map_err(io(dir))?;
        }
        write_new(&dest, &f.contents, f.executable).map_err(io(&dest))?;
    }
    Ok(Staged {
        dir: staging.path().to_path_buf(),
        target: target.to_path_buf(),
        files: plan.files.len(),
        staging: Some(staging),
    })
}

/// Create a file with its mode in one go (no separate chmod).
pub fn write_new(path: &Path, contents: &[u8], executable: bool) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if executable { 0o755 } else { 0o644 })
        .open(path)?;
    f.write_all(contents)
}

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
    let mut opts = git2::RepositoryInitOptions::new();
    opts.initial_head("main");
    let repo = git2::Repository::init_opts(root, &opts).map_err(git)?;
    let odb = repo.odb().map_err(git)?;
    // Objects go to memory first and to disk as one packfile (see `pack_objects`).
    let mempack = odb.add_new_mempack_backend(1000).map_err(git)?;
    let mut index = repo.index().map_err(git)?;
    let mut blobs: std::collections::BTreeMap<git2::Oid, &[u8]> = Default::default();
    // With the files in memory, the blobs go into the pack below without ever being in the
    // object store: libgit2 must accept index entries and trees naming them without looking
    // them up. The option is process-wide, so it is restored when this function returns.
    let _relaxed = files.map(|_| RelaxedObjectChecks::new());
    match files {
        None => index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .map_err(git)?,
        Some(files) => {
            use std::os::unix::fs::MetadataExt;
            for f in files {
                if repo.is_path_ignored(f.path).map_err(git)? {
                    continue;
                }
                // Only the blob's id: its bytes go from memory straight into the pack, so
                // libgit2 never checks the object store for them (one `stat` per blob).
                let id = git2::Oid::hash_object(git2::ObjectType::Blob, f.contents).map_err(git)?;
                blobs.insert(id, f.contents);
                let meta = fs_err::symlink_metadata(root.join(f.path)).map_err(|source| {
                    ScaffoldError::Io {
                        path: root.join(f.path),
                        source,
                    }
                })?;
                let entry = git2::IndexEntry {
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
                };
                index.add(&entry).map_err(git)?;
            }
        }
    }
    let tree_id = index.write_tree().map_err(git)?;
    let tree = repo.find_tree(tree_id).map_err(git)?;
    let sig = repo
        .signature()
        .or_else(|_| git2::Signature::now("fsi", "fsi@localhost"))
        .map_err(git)?;
    // Create the commit object first; HEAD moves only once the pack is on disk.
    let oid = repo
        .commit(None, &sig, &sig, message, &tree, &[])
        .map_err(git)?;
    let mut objects = vec![oid, tree_id];
    tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
        objects.push(entry.id());
        git2::TreeWalkResult::Ok
    })
    .map_err(git)?;
    let pack = pack_objects(&odb, objects, &blobs).map_err(git)?;
    {
        use std::io::Write;
        let mut writer = odb.packwriter().map_err(git)?;
        writer.write_all(&pack).map_err(|e| ScaffoldError::Io {
            path: root.join(".git/objects/pack"),
            source: e,
        })?;
        writer.commit().map_err(git)?;
    }
    mempack.reset().map_err(git)?;
    index.write().map_err(git)?;
    repo.reference("refs/heads/main", oid, true, message)
        .map_err(git)?;
    Ok(oid.to_string()[..7].to_string())
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

/// The given objects of `odb` as a version-2 packfile with no deltas: a fresh project's objects
/// are all distinct, so libgit2's delta search (what `git_mempack_dump` runs) costs more than it
/// saves. libgit2's pack writer indexes the stream and checks its trailing SHA-1. (The mempack
/// backend cannot be enumerated, so the caller lists the objects: the commit and its tree.)
fn pack_objects(
    odb: &git2::Odb<'_>,
    mut oids: Vec<git2::Oid>,
    in_memory: &std::collections::BTreeMap<git2::Oid, &[u8]>,
) -> Result<Vec<u8>, git2::Error> {
    use sha1::Digest;
    use std::io::Write;
    oids.sort();
    oids.dedup();
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(b"PACK");
    out.extend_from_slice(&2u32.to_be_bytes());
    out.extend_from_slice(&(oids.len() as u32).to_be_bytes());
    for oid in oids {
        let read;
        let (kind, data): (u8, &[u8]) = match in_memory.get(&oid) {
            Some(data) => (3, data),
            None => {
                read = odb.read(oid)?;
                let kind = match read.kind() {
                    git2::ObjectType::Commit => 1,
                    git2::ObjectType::Tree => 2,
                    git2::ObjectType::Blob => 3,
                    git2::ObjectType::Tag => 4,
                    _ => return Err(git2::Error::from_str("unexpected object type")),
                };
                (kind, read.data())
            }
        };
        // Type and size: 3 bits of type, then the size 4 bits first and 7 bits per byte after.
        let mut size = data.len();
        let mut byte = (kind << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            out.push(byte | 0x80);
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        out.push(byte);
        let mut z = flate2::write::ZlibEncoder::new(&mut out, flate2::Compression::fast());
        z.write_all(data)
            .and_then(|_| z.finish().map(|_| ()))
            .map_err(|e| git2::Error::from_str(&e.to_string()))?;
    }
    let digest = sha1::Sha1::digest(&out);
    out.extend_from_slice(&digest);
    Ok(out)
}

/// A fresh 256-bit secret as 64 hex characters.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
