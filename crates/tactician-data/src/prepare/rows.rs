//! Dense rows of one split: the tensors being built.

/// The rows of one split, column by column. Features are kept as the little-endian `f32`
/// bytes the dataset stores and the tensor file holds, so they are copied, never converted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Features per row.
    pub nf: usize,
    /// Actions per row.
    pub na: usize,
    /// `4 * nf` bytes per row: little-endian `f32`.
    pub features: Vec<u8>,
    /// `na` bytes per row, 0 or 1.
    pub legal: Vec<u8>,
    /// The action taken.
    pub action: Vec<i32>,
    /// The outcome from the acting side's view: +1, 0, -1.
    pub value: Vec<f32>,
    /// The sample weight.
    pub weight: Vec<f32>,
    /// The player (index into the report's player list) who decided.
    pub group: Vec<u32>,
}

impl Rows {
    /// Empty rows of `nf` features and `na` actions.
    pub fn new(nf: usize, na: usize) -> Self {
        Self {
            nf,
            na,
            ..Default::default()
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.action.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.action.is_empty()
    }

    /// Feature `j` of row `i`.
    pub fn feature(&self, i: usize, j: usize) -> f32 {
        let o = (i * self.nf + j) * 4;
        f32::from_le_bytes([
            self.features[o],
            self.features[o + 1],
            self.features[o + 2],
            self.features[o + 3],
        ])
    }

    /// The features of row `i` as floats.
    pub fn row_features(&self, i: usize) -> Vec<f32> {
        (0..self.nf).map(|j| self.feature(i, j)).collect()
    }

    /// The legal mask of row `i`.
    pub fn row_legal(&self, i: usize) -> &[u8] {
        &self.legal[i * self.na..(i + 1) * self.na]
    }

    /// Copies row `i` of `src` to the end of `self`.
    pub fn push_from(&mut self, src: &Rows, i: usize) {
        let fw = 4 * self.nf;
        self.features
            .extend_from_slice(&src.features[i * fw..(i + 1) * fw]);
        self.legal.extend_from_slice(src.row_legal(i));
        self.action.push(src.action[i]);
        self.value.push(src.value[i]);
        self.weight.push(src.weight[i]);
        self.group.push(src.group[i]);
    }

    /// The rows at `indices`, in that order.
    pub fn gather(&self, indices: &[usize]) -> Rows {
        let mut out = Rows::new(self.nf, self.na);
        out.features.reserve(indices.len() * 4 * self.nf);
        out.legal.reserve(indices.len() * self.na);
        for &i in indices {
            out.push_from(self, i);
        }
        out
    }
}
