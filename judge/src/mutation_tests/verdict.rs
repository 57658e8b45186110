//! `verdict`: a failure displays as its message (the one line a person reads), not its signature.

use crate::verdict::Failure;

#[test]
fn a_failure_displays_as_its_message() {
    let f = Failure { signature: "op wrong".into(), message: "out[0] = 1 but 2 [op]".into() };
    assert_eq!(f.to_string(), "out[0] = 1 but 2 [op]");
    assert_eq!(format!("{f}"), "out[0] = 1 but 2 [op]");
}
