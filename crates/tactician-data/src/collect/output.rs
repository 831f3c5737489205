//! The output folder: created if needed, checked writable, and guarded against overwriting a
//! previous collection.

use super::MANIFEST_NAME;
use super::error::CollectError;
use std::fs;
use std::io;
use std::path::Path;

/// Whether `name` is a file a collection writes: the manifest, a shard, or a temporary file of
/// either.
pub fn is_collection_file(name: &str) -> bool {
    let base = name.strip_suffix(".tmp").unwrap_or(name);
    base == MANIFEST_NAME
        || (base.starts_with("part-") && (base.ends_with(".jsonl") || base.ends_with(".jsonl.zst")))
}

/// Makes `dir` ready for a new collection: creates it, checks that it is a writable folder, and
/// that it holds no collection files. With `force`, removes those files instead of refusing
/// (other files are left alone).
pub fn prepare(dir: &Path, force: bool) -> Result<(), CollectError> {
    let unwritable = |source| CollectError::Unwritable {
        path: dir.to_path_buf(),
        source,
    };
    match fs::metadata(dir) {
        Ok(m) if !m.is_dir() => return Err(CollectError::NotADirectory(dir.to_path_buf())),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(unwritable)?;
        }
        Err(e) => return Err(unwritable(e)),
    }
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(unwritable)? {
        let entry = entry.map_err(unwritable)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_collection_file(&name) {
            found.push(name);
        }
    }
    found.sort();
    if !found.is_empty() && !force {
        return Err(CollectError::AlreadyCollected {
            path: dir.to_path_buf(),
            found: found[0].clone(),
        });
    }
    for name in &found {
        let path = dir.join(name);
        fs::remove_file(&path).map_err(|source| CollectError::Write { path, source })?;
    }
    probe(dir).map_err(unwritable)
}

/// Creates and removes a small file, to fail before any battle is played if the folder is not
/// writable.
fn probe(dir: &Path) -> io::Result<()> {
    let path = dir.join(format!(".tactician-probe-{}.tmp", std::process::id()));
    fs::write(&path, b"probe")?;
    fs::remove_file(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_collection_files() {
        for yes in [
            "collect.json",
            "collect.json.tmp",
            "part-00001.jsonl",
            "part-00000.jsonl.zst.tmp",
        ] {
            assert!(is_collection_file(yes), "{yes}");
        }
        for no in [
            "notes.txt",
            "part-1.parquet",
            "collect.jsonl",
            "my-part-0.jsonl",
        ] {
            assert!(!is_collection_file(no), "{no}");
        }
    }

    #[test]
    fn refuses_a_previous_collection_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("logs");
        prepare(&out, false).unwrap();
        fs::write(out.join("part-00000.jsonl.zst"), b"x").unwrap();
        fs::write(out.join("notes.txt"), b"keep").unwrap();
        let e = prepare(&out, false).unwrap_err();
        assert!(matches!(e, CollectError::AlreadyCollected { .. }), "{e}");
        prepare(&out, true).unwrap();
        let left: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["notes.txt"]);
    }

    #[test]
    fn refuses_a_file_and_a_path_under_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, b"x").unwrap();
        assert!(matches!(
            prepare(&file, false),
            Err(CollectError::NotADirectory(_))
        ));
        let e = prepare(&file.join("sub"), false).unwrap_err();
        assert!(matches!(e, CollectError::Unwritable { .. }), "{e}");
    }
}
