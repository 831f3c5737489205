//! Keeping a command's output apart from its inputs, so that replacing the output can never
//! touch an input.

use crate::Error;
use std::path::{Component, Path, PathBuf};

/// Refuses an `output` that is, contains or lies inside one of `inputs` (after resolving `.`,
/// `..` and symbolic links, for paths that do not exist yet too).
pub fn check_disjoint(output: &Path, inputs: &[&Path]) -> Result<(), Error> {
    let out = resolve(output)?;
    for &input in inputs {
        let inp = resolve(input)?;
        let relation = if out == inp {
            "is"
        } else if inp.starts_with(&out) {
            "contains"
        } else if out.starts_with(&inp) {
            "lies inside"
        } else {
            continue;
        };
        return Err(Error::Overlap {
            output: output.to_path_buf(),
            input: input.to_path_buf(),
            relation,
        });
    }
    Ok(())
}

/// `path` made absolute: its longest existing ancestor canonicalized (links resolved), the rest
/// appended with `.` and `..` applied.
fn resolve(path: &Path) -> Result<PathBuf, Error> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io("resolve", path, e))?
            .join(path)
    };
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(mut base) => {
                for c in rest.iter().rev() {
                    match c {
                        Component::ParentDir => {
                            base.pop();
                        }
                        Component::CurDir => {}
                        c => base.push(c),
                    }
                }
                return Ok(base);
            }
            Err(_) => {
                let Some(parent) = existing.parent() else {
                    return Ok(abs);
                };
                if let Some(last) = existing.components().next_back() {
                    rest.push(last);
                }
                existing = parent;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_every_overlap_and_allows_siblings() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let data = root.join("par/ds");
        std::fs::create_dir_all(&data).unwrap();
        let relation = |out: &Path| match check_disjoint(out, &[&data]) {
            Err(Error::Overlap { relation, .. }) => Some(relation),
            Ok(()) => None,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(relation(&data), Some("is"));
        assert_eq!(relation(&root.join("par/ds/./")), Some("is"));
        assert_eq!(relation(&root.join("par/x/../ds")), Some("is"));
        assert_eq!(relation(&root.join("par")), Some("contains"));
        assert_eq!(relation(&root.join("par/ds/prepared")), Some("lies inside"));
        assert_eq!(
            relation(&root.join("par/ds/new/deeper")),
            Some("lies inside")
        );
        assert_eq!(relation(&root.join("par/prepared")), None);
        assert_eq!(relation(&root.join("par/ds-prepared")), None);
    }

    #[test]
    #[cfg(unix)]
    fn sees_through_symbolic_links() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&data, &link).unwrap();
        let e = check_disjoint(&link, &[&data]).unwrap_err();
        assert!(e.to_string().contains("is the input"), "{e}");
        let e = check_disjoint(&data.join("out"), &[&link]).unwrap_err();
        assert!(e.to_string().contains("lies inside"), "{e}");
    }
}
