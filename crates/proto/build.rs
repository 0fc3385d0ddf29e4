//! Compiles `proto/**/*.proto` (at the workspace root) into Rust with `protox` + `prost-build`.
//!
//! No system `protoc` is needed: `protox` parses the files into a `FileDescriptorSet`, which is
//! written to `OUT_DIR` (for reflection and the catalog test) and handed to
//! `prost_build::Config::compile_fds`. The generated code lives in `OUT_DIR` only.

// A build script talks to Cargo through stdout.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

/// File name of the encoded descriptor set in `OUT_DIR` (read by `src/lib.rs`).
const DESCRIPTOR_SET_FILE: &str = "josh_events_descriptor_set.bin";

/// Messages whose `Debug` is written by hand (`src/redact.rs`) to keep phone numbers out of logs.
const REDACTED_DEBUG: [&str; 2] = [".josh.events.v1.SmsReceived", ".josh.events.v1.SendSms"];

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = fs::canonicalize(manifest_dir.join("../../proto"))?;
    // Only the bus contracts; gRPC services (proto/josh/billing, ...) are crates/rpc's.
    let events_dir = proto_root.join("josh/events");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    // Cargo scans a directory given to rerun-if-changed recursively.
    // Relative to this package, so a target directory shared by two checkouts notices changes in
    // either (an absolute path would name only the checkout that built first).
    println!("cargo:rerun-if-changed=../../proto");
    println!("cargo:rerun-if-changed=build.rs");

    let mut files = Vec::new();
    collect_protos(&events_dir, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(format!("no .proto files under {}", proto_root.display()).into());
    }

    let mut compiler = protox::Compiler::new([&proto_root])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(&files)?;

    // Keep the imports (google/protobuf/timestamp.proto) in the exported set so it is
    // self-contained for reflection.
    fs::write(
        out_dir.join(DESCRIPTOR_SET_FILE),
        compiler.encode_file_descriptor_set(),
    )?;

    // The imports stay in: prost-build needs their descriptors to resolve field types, and maps
    // the well-known types to `prost_types` instead of generating them.
    prost_build::Config::new()
        .skip_debug(REDACTED_DEBUG)
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}

/// Appends every `.proto` file under `dir` (recursively) to `out`.
fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Box<dyn Error>> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
