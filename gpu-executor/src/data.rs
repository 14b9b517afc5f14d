//! Datasets: the built-in real datasets, CSV parsing and the dataset commitment.
//!
//! A dataset is a CSV file (optionally gzip-compressed) of rows `f_1, …, f_n, label`, with an
//! optional scikit-learn style header line `n_samples, n_features, class names…`. Features are
//! parsed to Q16.16 (round to nearest) and must lie in ±32768; labels are integers `0..classes`.
//! The three built-in datasets ship inside the crate (`data/`, embedded in the binary) so that a
//! provider without the repository trains on exactly the same bytes.
//!
//! The dataset commitment ([`Dataset::commitment`]) is the Poseidon2 Merkle commitment of the
//! parsed rows (see [`crate::commit`]): it identifies a dataset independently of its file
//! formatting, and it is what a job and an attestation name.

use std::io::Read;
use std::path::Path;

use ctm_core::Digest;
use flate2::read::GzDecoder;
use rayon::prelude::*;

use crate::commit::{Limbs, Tag, merkle_root, seal};
use crate::error::{ExecutorError, Result};
use crate::fixed;

/// A built-in dataset.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// Name used on the command line.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// The file bytes as shipped in `data/`.
    pub bytes: &'static [u8],
}

/// The datasets shipped with the executor (see `data/README.md` for their origin).
pub const BUILTIN: [Builtin; 3] = [
    Builtin {
        name: "digits",
        description: "UCI optical handwritten digits, 8x8 pixels (0-16), 10 classes",
        bytes: include_bytes!("../data/digits.csv.gz"),
    },
    Builtin {
        name: "iris",
        description: "Fisher's Iris, 4 measurements, 3 species",
        bytes: include_bytes!("../data/iris.csv"),
    },
    Builtin {
        name: "breast_cancer",
        description: "UCI Breast Cancer Wisconsin (Diagnostic), 30 features, malignant/benign",
        bytes: include_bytes!("../data/breast_cancer.csv"),
    },
];

/// A parsed dataset: raw (unnormalized) features in Q16.16 and labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// Name or path it was loaded from (not committed).
    pub name: String,
    /// Features per row.
    pub n_features: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// Row-major features, `rows × n_features`, Q16.16.
    pub features: Vec<i32>,
    /// One label per row.
    pub labels: Vec<u32>,
}

impl Dataset {
    /// Loads a built-in dataset by name, or else a CSV file at that path.
    pub fn load(name_or_path: &str) -> Result<Dataset> {
        if let Some(b) = BUILTIN.iter().find(|b| b.name == name_or_path) {
            return Dataset::parse(b.name, b.bytes);
        }
        let path = Path::new(name_or_path);
        if !path.is_file() {
            return Err(ExecutorError::DatasetNotFound { name: name_or_path.to_string() });
        }
        let bytes = std::fs::read(path).map_err(ExecutorError::io(path))?;
        Dataset::parse(name_or_path, &bytes)
    }

    /// Loads a dataset and checks that its commitment is `expected`.
    pub fn load_expecting(name_or_path: &str, expected: &Digest) -> Result<Dataset> {
        let d = Dataset::load(name_or_path)?;
        let actual = d.commitment();
        if actual != *expected {
            return Err(ExecutorError::DatasetMismatch { expected: *expected, actual });
        }
        Ok(d)
    }

    /// Parses CSV bytes (gzip-compressed if they start with the gzip magic).
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Dataset> {
        let err = |line: usize, reason: String| ExecutorError::DatasetFormat {
            name: name.to_string(),
            line,
            reason,
        };
        let mut text = String::new();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            GzDecoder::new(bytes)
                .read_to_string(&mut text)
                .map_err(|e| err(0, format!("gzip: {e}")))?;
        } else {
            text = String::from_utf8(bytes.to_vec()).map_err(|e| err(0, e.to_string()))?;
        }
        let mut header: Option<(usize, usize, usize)> = None;
        let mut width: Option<usize> = None;
        let (mut features, mut labels) = (Vec::new(), Vec::new());
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            let numeric: Option<Vec<f64>> = cells.iter().map(|c| c.parse::<f64>().ok()).collect();
            let Some(values) = numeric else {
                if i == 0 && cells.len() >= 3 {
                    let n = cells[0].parse().map_err(|_| err(1, "bad header".into()))?;
                    let f = cells[1].parse().map_err(|_| err(1, "bad header".into()))?;
                    header = Some((n, f, cells.len() - 2));
                    continue;
                }
                return Err(err(i + 1, "non-numeric value".into()));
            };
            if values.len() < 2 {
                return Err(err(i + 1, "a row needs at least one feature and a label".into()));
            }
            if *width.get_or_insert(values.len()) != values.len() {
                return Err(err(i + 1, format!("{} columns, expected {width:?}", values.len())));
            }
            let (label, feats) = values.split_last().unwrap_or((&0.0, &[]));
            if label.fract() != 0.0 || *label < 0.0 || *label >= fixed::MAX_DIM as f64 {
                return Err(err(i + 1, format!("label {label} is not a class index")));
            }
            labels.push(*label as u32);
            for v in feats {
                let q = fixed::from_f64(*v)
                    .ok_or_else(|| err(i + 1, format!("feature {v} out of range ±32768")))?;
                features.push(q);
            }
        }
        let Some(width) = width else {
            return Err(err(0, "no rows".into()));
        };
        let n_features = width - 1;
        let max_label = labels.iter().copied().max().unwrap_or(0) as usize;
        let mut n_classes = max_label + 1;
        if let Some((n, f, classes)) = header {
            if n != labels.len() || f != n_features || classes < n_classes {
                return Err(err(
                    1,
                    format!(
                        "header says {n} rows × {f} features, {classes} classes; found {} × {n_features}, labels up to {max_label}",
                        labels.len()
                    ),
                ));
            }
            n_classes = classes;
        }
        if n_classes < 2 || n_features > fixed::MAX_DIM {
            return Err(err(0, format!("{n_classes} classes, {n_features} features unsupported")));
        }
        Ok(Dataset { name: name.to_string(), n_features, n_classes, features, labels })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    /// The features of row `i`.
    pub fn row(&self, i: usize) -> &[i32] {
        &self.features[i * self.n_features..(i + 1) * self.n_features]
    }

    /// The dataset commitment: Merkle root of the row leaves `[ROW, label, features…]`, sealed
    /// with the header `[DATASET, n_rows, n_features, n_classes]`.
    pub fn commitment(&self) -> Digest {
        let leaves: Vec<Digest> = (0..self.rows())
            .into_par_iter()
            .map(|i| {
                let mut l = Limbs::new(Tag::Row);
                l.u32(self.labels[i]);
                for &v in self.row(i) {
                    l.i32(v);
                }
                l.hash()
            })
            .collect();
        let mut header = Limbs::new(Tag::Dataset);
        header.u64(self.rows() as u64).u32(self.n_features as u32).u32(self.n_classes as u32);
        seal(&header, &merkle_root(&leaves))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_with_expected_shapes() {
        let shapes = [("digits", 1797, 64, 10), ("iris", 150, 4, 3), ("breast_cancer", 569, 30, 2)];
        for (name, rows, f, c) in shapes {
            let d = Dataset::load(name).unwrap();
            assert_eq!((d.rows(), d.n_features, d.n_classes), (rows, f, c), "{name}");
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(Dataset::load("nope"), Err(ExecutorError::DatasetNotFound { .. })));
        for bad in ["", "1,2\n1,2,3\n", "1,x,0\n", "1,2,0.5\n", "1e9,0\n", "1,-1\n", "1,0\n"] {
            assert!(Dataset::parse("t", bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(Dataset::parse("t", b"1,0\n2,1\n").is_ok());
    }

    #[test]
    fn commitment_depends_on_content_not_formatting() {
        let a = Dataset::parse("a", b"1.0,2,0\n3,4,1\n").unwrap();
        let b = Dataset::parse("b", b"1, 2.00, 0\n\n3,4,1\n").unwrap();
        let c = Dataset::parse("c", b"1,2,1\n3,4,1\n").unwrap();
        assert_eq!(a.commitment(), b.commitment());
        assert_ne!(a.commitment(), c.commitment());
        assert!(matches!(
            Dataset::load_expecting("iris", &a.commitment()),
            Err(ExecutorError::DatasetMismatch { .. })
        ));
    }
}
