//! include_dir does not notice files added to `skeletons/`; this makes cargo re-run the build (and so
//! re-embed the tree) whenever anything below it changes.
fn main() {
    println!("cargo:rerun-if-changed=skeletons");
    println!("cargo:rerun-if-changed=sessions");
    println!("cargo:rerun-if-changed=build.rs");
}
