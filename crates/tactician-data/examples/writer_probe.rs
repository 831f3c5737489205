//! Probe: Parquet writer cost of feature layouts.
use arrow_array::{ArrayRef, FixedSizeListArray, Float32Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use std::sync::Arc;
use std::time::Instant;
fn main() {
    if std::env::var("ONLY").is_ok() {
        only();
        return;
    }
    let n = 200_000usize;
    let f = 179usize;
    let mut rng = 1u64;
    let vals: Vec<f32> = (0..n * f)
        .map(|i| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1);
            let r = (rng >> 33) % 10;
            if i % 3 == 0 {
                (r as f32) / 7.0
            } else if r < 7 {
                0.0
            } else {
                1.0
            }
        })
        .collect();
    for (label, comp) in [
        ("none", Compression::UNCOMPRESSED),
        ("lz4", Compression::LZ4_RAW),
        ("zstd1", Compression::ZSTD(ZstdLevel::try_new(1).unwrap())),
    ] {
        for (dict, wb) in [(false, 1024), (false, 65536), (true, 65536)] {
            let props = WriterProperties::builder()
                .set_compression(comp)
                .set_dictionary_enabled(dict)
                .set_write_batch_size(wb)
                .set_statistics_enabled(EnabledStatistics::None)
                .set_max_row_group_row_count(Some(65536))
                .build();
            // binary layout
            let schema = Arc::new(Schema::new(vec![Field::new(
                "features",
                DataType::FixedSizeBinary((f * 4) as i32),
                false,
            )]));
            let t = Instant::now();
            let mut w =
                ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props.clone())).unwrap();
            for c in vals.chunks(f * 10000) {
                let bytes: Vec<u8> = c.iter().flat_map(|v| v.to_le_bytes()).collect();
                let arr =
                    arrow_array::FixedSizeBinaryArray::try_new((f * 4) as i32, bytes.into(), None)
                        .unwrap();
                w.write(&RecordBatch::try_new(schema.clone(), vec![Arc::new(arr)]).unwrap())
                    .unwrap();
            }
            let bbytes = w.into_inner().unwrap().len();
            println!(
                "binary {label} dict={dict} wb={wb}: {:.2} us/row {:.0} B/row",
                t.elapsed().as_secs_f64() * 1e6 / n as f64,
                bbytes as f64 / n as f64
            );
            // list layout
            let item = Arc::new(Field::new("item", DataType::Float32, false));
            let schema = Arc::new(Schema::new(vec![Field::new(
                "features",
                DataType::FixedSizeList(item.clone(), f as i32),
                false,
            )]));
            let t = Instant::now();
            let mut w =
                ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props.clone())).unwrap();
            for c in vals.chunks(f * 10000) {
                let arr = FixedSizeListArray::try_new(
                    item.clone(),
                    f as i32,
                    Arc::new(Float32Array::from(c.to_vec())),
                    None,
                )
                .unwrap();
                w.write(&RecordBatch::try_new(schema.clone(), vec![Arc::new(arr)]).unwrap())
                    .unwrap();
            }
            let bytes = w.into_inner().unwrap().len();
            let list_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
            // wide layout
            let fields: Vec<Field> = (0..f)
                .map(|i| Field::new(format!("f{i}"), DataType::Float32, false))
                .collect();
            let schema = Arc::new(Schema::new(fields));
            let t = Instant::now();
            let mut w =
                ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props.clone())).unwrap();
            for c in vals.chunks(f * 10000) {
                let rows = c.len() / f;
                let cols: Vec<ArrayRef> = (0..f)
                    .map(|j| {
                        Arc::new(Float32Array::from_iter_values(
                            (0..rows).map(|r| c[r * f + j]),
                        )) as ArrayRef
                    })
                    .collect();
                w.write(&RecordBatch::try_new(schema.clone(), cols).unwrap())
                    .unwrap();
            }
            let wbytes = w.into_inner().unwrap().len();
            let wide_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
            println!(
                "{label:>6} dict={dict} wb={wb}: list {list_us:.2} us/row {:.0} B/row | wide {wide_us:.2} us/row {:.0} B/row",
                bytes as f64 / n as f64,
                wbytes as f64 / n as f64
            );
        }
    }
}

fn only() {
    let n = 400_000usize;
    let f = 179usize;
    let vals: Vec<f32> = (0..n * f).map(|i| (i % 7) as f32 / 7.0).collect();
    let props = WriterProperties::builder()
        .set_compression(Compression::UNCOMPRESSED)
        .set_dictionary_enabled(false)
        .set_write_batch_size(65536)
        .set_statistics_enabled(EnabledStatistics::None)
        .set_max_row_group_row_count(Some(65536))
        .build();
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let schema = Arc::new(Schema::new(vec![Field::new(
        "features",
        DataType::FixedSizeList(item.clone(), f as i32),
        false,
    )]));
    let t = Instant::now();
    let mut w = ArrowWriter::try_new(std::io::sink(), schema.clone(), Some(props)).unwrap();
    for c in vals.chunks(f * 10000) {
        let arr = FixedSizeListArray::try_new(
            item.clone(),
            f as i32,
            Arc::new(Float32Array::from(c.to_vec())),
            None,
        )
        .unwrap();
        w.write(&RecordBatch::try_new(schema.clone(), vec![Arc::new(arr)]).unwrap())
            .unwrap();
    }
    w.close().unwrap();
    println!("{:.2} us/row", t.elapsed().as_secs_f64() * 1e6 / n as f64);
}
