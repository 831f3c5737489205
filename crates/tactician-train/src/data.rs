//! The prepared data a training run reads (the prepared-data folder of `tactician-formats`):
//! the manifest and the training and validation splits, checked on load.

use crate::error::TrainError;
use std::path::{Path, PathBuf};
use tactician_formats::prepared::{PreparedManifest, Split, SplitName};

/// A prepared data folder, loaded for training.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: PreparedManifest,
    /// Training split.
    pub train: Split,
    /// Validation split.
    pub val: Split,
}

impl Prepared {
    /// Loads the training and validation splits of `dir`, checked against its manifest's
    /// encoder. With `expected_encoder`, data from any other encoder hash is refused.
    pub fn load(dir: &Path, expected_encoder: Option<&str>) -> Result<Self, TrainError> {
        let manifest = PreparedManifest::read(dir)?;
        if let Some(want) = expected_encoder
            && manifest.encoder.hash != want
        {
            return Err(TrainError::Encoder(format!(
                "{} was prepared with encoder {} but this build's encoder is {want}; run \
                 `tactician prepare` again",
                dir.display(),
                manifest.encoder.hash
            )));
        }
        let widths = Some((
            manifest.encoder.features.len(),
            manifest.encoder.actions.len(),
        ));
        let train = Split::read(&dir.join(SplitName::Train.file_name()), widths)?;
        let val = Split::read(&dir.join(SplitName::Val.file_name()), widths)?;
        if train.rows == 0 {
            return Err(TrainError::invalid(
                dir.join(SplitName::Train.file_name()),
                "the training split is empty",
            ));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            train,
            val,
        })
    }
}
