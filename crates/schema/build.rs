//! Rebuild when a migration is added or edited: `sqlx::migrate!` embeds the directory.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
    println!("cargo:rerun-if-changed=expected_schema.txt");
}
