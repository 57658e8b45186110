//! The README's list of families is generated from the family table and must equal it, so it cannot go stale.
//! `CONFORM_UPDATE_README=1 cargo test -p conform-harness --test readme` rewrites the list after a change.

const BEGIN: &str = "<!-- families:begin -->\n";
const END: &str = "<!-- families:end -->";

#[test]
fn the_readme_lists_every_family_of_the_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md is readable");
    let (start, end) = (
        readme.find(BEGIN).expect("README.md has the families:begin marker") + BEGIN.len(),
        readme.find(END).expect("README.md has the families:end marker"),
    );
    let expected = conform_properties::families::markdown_list();
    if readme[start..end] == expected {
        return;
    }
    if std::env::var_os("CONFORM_UPDATE_README").is_some() {
        std::fs::write(path, format!("{}{expected}{}", &readme[..start], &readme[end..])).expect("README.md writable");
        return;
    }
    panic!(
        "README.md's family list is stale:\n{}\nexpected:\n{expected}\n(run CONFORM_UPDATE_README=1 cargo test -p conform-harness --test readme)",
        &readme[start..end]
    );
}
