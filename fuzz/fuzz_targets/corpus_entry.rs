//! Fuzzes the corpus reader: any bytes either give a clear error or a valid entry whose case addresses only its
//! own storage and which re-reads to itself. Never a panic.
#![no_main]

use conform_generators::{parse_entry, Case};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(entry) = parse_entry(data) else { return };
    let Case::Tensor(case) = &entry.case;
    if case.numel() <= 1 << 16 {
        let addresses = case.layout().addresses();
        assert_eq!(addresses.len(), case.numel());
        assert!(addresses.iter().all(|&a| a < case.storage().len()));
    }
    let again = parse_entry(entry.to_json().as_bytes()).expect("a valid entry re-reads");
    assert_eq!(again, entry);
});
