//! Fuzzes the layout validator with arbitrary shapes, strides, offsets and storage lengths: validation never
//! overflows or panics, and a layout it accepts addresses only elements inside the storage.
#![no_main]

use conform_generators::Layout;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let words: Vec<u64> = data.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
    let Some((&head, rest)) = words.split_first() else { return };
    let rank = (head % 8) as usize;
    if rest.len() < 2 * rank + 2 {
        return;
    }
    // Small values most of the time, so accepted layouts are common; any value some of the time.
    let pick = |w: u64| if w >> 63 == 1 { w } else { w % 17 };
    let shape: Vec<usize> = rest[..rank].iter().map(|&w| pick(w) as usize).collect();
    let strides: Vec<isize> = rest[rank..2 * rank].iter().map(|&w| (pick(w) as i64 as isize).wrapping_sub(8)).collect();
    let offset = pick(rest[2 * rank]) as usize;
    let storage_len = pick(rest[2 * rank + 1]) as usize;
    let layout = Layout { shape, strides, offset };
    if layout.validate(storage_len).is_ok() && layout.numel().is_some_and(|n| n <= 1 << 16) {
        assert!(layout.addresses().iter().all(|&a| a < storage_len));
    }
});
