//! Tests of the model: round trips at every precision, unsupported operators, wrong
//! identifiers and versions, and invalid models rejected by both the writer and the reader.

use super::*;
use crate::error::ReadError;
use crate::fb::{Builder, TableBuilder};
use crate::schema::field;
use tactician_export::{ExportOptions, Precision, export};
use tactician_formats::model::{Activation as Hidden, Mlp, ModelJson};

/// A small exported network (through its bytes: the exporter links the library itself).
fn sample(precision: Precision) -> Model {
    let meta = ModelJson::new(6, vec![5], Hidden::Relu, 4, true, "random");
    let mlp = Mlp::random(meta, 1);
    let calib: Vec<f32> = (0..60).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
    let bytes = export(
        &mlp,
        &ExportOptions::new(precision).with_calibration(&calib),
    )
    .unwrap();
    Model::parse(&bytes).unwrap()
}

fn reparse(m: &Model) -> Result<Model, ReadError> {
    Model::parse(&m.to_bytes_unchecked().unwrap())
}

#[test]
fn round_trip_all_precisions() {
    for p in [Precision::Float32, Precision::Dynamic, Precision::Int8] {
        let m = sample(p);
        assert_eq!(reparse(&m).unwrap(), m);
    }
}

#[test]
fn unsupported_operator_is_named() {
    let mut b = Builder::new();
    let mut tb = TableBuilder::new();
    tb.u8(field::opcode::DEPRECATED_BUILTIN_CODE, 3)
        .i32(field::opcode::BUILTIN_CODE, 3);
    let oc = b.table(tb);
    let ocs = b.offsets(&[oc]);
    let sg = b.table(TableBuilder::new());
    let sgs = b.offsets(&[sg]);
    let mut tb = TableBuilder::new();
    tb.u32(field::model::VERSION, 3)
        .offset(field::model::OPERATOR_CODES, ocs)
        .offset(field::model::SUBGRAPHS, sgs);
    let root = b.table(tb);
    let bytes = b.finish(root, FILE_IDENTIFIER);
    let err = Model::parse(&bytes).unwrap_err();
    assert!(
        matches!(&err, ReadError::Unsupported(m) if m.contains("CONV_2D")),
        "{err}"
    );
}

#[test]
fn wrong_identifier_and_version() {
    let mut bytes = sample(Precision::Float32).to_bytes().unwrap();
    bytes[4..8].copy_from_slice(b"TFL2");
    assert!(matches!(
        Model::parse(&bytes),
        Err(ReadError::NotTflite { .. })
    ));
    let mut m = sample(Precision::Float32);
    m.version = 2;
    assert!(matches!(reparse(&m), Err(ReadError::Unsupported(_))));
}

#[test]
fn invalid_models_are_rejected_with_reasons() {
    let base = sample(Precision::Int8);
    fn weights(m: &mut Model) -> &mut Tensor {
        m.subgraphs[0]
            .tensors
            .iter_mut()
            .find(|t| t.name == "dense.0/weight")
            .unwrap()
    }
    type Mutation = Box<dyn Fn(&mut Model)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "zero scale",
            Box::new(|m| weights(m).quantization.as_mut().unwrap().scale[0] = 0.0),
        ),
        (
            "per-channel count",
            Box::new(|m| {
                weights(m).quantization.as_mut().unwrap().scale.pop();
                weights(m).quantization.as_mut().unwrap().zero_point.pop();
            }),
        ),
        (
            "zero point range",
            Box::new(|m| {
                m.subgraphs[0].tensors[1].quantization = Some(Quantization {
                    scale: vec![0.5],
                    zero_point: vec![300],
                    ..Default::default()
                })
            }),
        ),
        (
            "data size",
            Box::new(|m| {
                let b = weights(m).buffer as usize;
                m.buffers[b].pop();
            }),
        ),
        ("buffer index", Box::new(|m| weights(m).buffer = 999)),
        (
            "tensor index",
            Box::new(|m| m.subgraphs[0].operators[0].inputs[0] = 77),
        ),
        (
            "opcode index",
            Box::new(|m| m.subgraphs[0].operators[0].opcode_index = 50),
        ),
        (
            "negative dim",
            Box::new(|m| m.subgraphs[0].tensors[0].shape[0] = -1),
        ),
        ("metadata buffer", Box::new(|m| m.metadata[0].buffer = 1000)),
        (
            "options mismatch",
            Box::new(|m| m.subgraphs[0].operators[1].options = Options::Softmax { beta: 1.0 }),
        ),
        (
            "fc depth",
            Box::new(|m| {
                let w = weights(m);
                w.shape[1] += 1;
            }),
        ),
        (
            "subgraph output",
            Box::new(|m| m.subgraphs[0].outputs.push(-1)),
        ),
    ];
    for (what, mutate) in cases {
        let mut m = base.clone();
        mutate(&mut m);
        assert!(m.to_bytes().is_err(), "{what}: the writer accepted it");
        let err = reparse(&m).expect_err(what);
        assert!(
            matches!(err, ReadError::Invalid(_) | ReadError::Malformed(_)),
            "{what}: {err}"
        );
    }
}
