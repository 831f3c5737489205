//! The files of a collection's folder: what a new collection (with `--force`) replaces.
//! Anything else in the folder is left alone.

use super::MANIFEST_NAME;

/// Whether `name` is a file a collection writes: the manifest, a shard, or a temporary file of
/// either (`NAME.tmp`, or `.NAME.PID-N.tmp` as an atomic write leaves it).
pub fn is_collection_file(name: &str) -> bool {
    let mut base = name;
    if let Some(tmp) = base.strip_suffix(".tmp") {
        base = tmp;
        if let Some(hidden) = base.strip_prefix('.') {
            base = hidden.rsplit_once('.').map_or(hidden, |(b, _)| b);
        }
    }
    base == MANIFEST_NAME
        || (base.starts_with("part-") && (base.ends_with(".jsonl") || base.ends_with(".jsonl.zst")))
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
            ".part-00003.jsonl.zst.4242-7.tmp",
            ".collect.json.1-0.tmp",
        ] {
            assert!(is_collection_file(yes), "{yes}");
        }
        for no in [
            "notes.txt",
            "part-1.parquet",
            "collect.jsonl",
            "my-part-0.jsonl",
            ".notes.txt.1-0.tmp",
        ] {
            assert!(!is_collection_file(no), "{no}");
        }
    }
}
