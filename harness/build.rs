//! Same rpath set-up as the properties crate: link arguments only reach the targets of the package that prints them.
#[path = "../properties/build.rs"]
mod libtorch_rpath;

fn main() {
    libtorch_rpath::main();
}
