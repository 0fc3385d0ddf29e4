//! Compiles the gRPC services in `proto/josh/billing/v1` and `proto/josh/admin/v1` (at the workspace root) with `protox`
//! (no system `protoc`) and tonic's prost code generator, into `OUT_DIR`.

// A build script talks to Cargo through stdout.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::fs;
use std::path::PathBuf;

/// The service definitions compiled here, relative to `proto/`.
const SERVICES: [&str; 9] = [
    "josh/billing/v1/billing.proto",
    "josh/admin/v1/export.proto",
    "josh/admin/v1/messages.proto",
    "josh/admin/v1/inbound_admin.proto",
    "josh/admin/v1/router_admin.proto",
    "josh/admin/v1/sender_admin.proto",
    "josh/admin/v1/matcher_admin.proto",
    "josh/admin/v1/billing_admin.proto",
    "josh/admin/v1/dead_letters.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_root = fs::canonicalize(manifest_dir.join("../../proto"))?;
    // Relative to this package: an absolute path would tie the build cache to one checkout
    // (a target directory shared by two clones would never see the other's proto changes).
    for file in SERVICES {
        println!("cargo:rerun-if-changed=../../proto/{file}");
    }
    println!("cargo:rerun-if-changed=build.rs");

    let mut compiler = protox::Compiler::new([&proto_root])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(SERVICES)?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}
