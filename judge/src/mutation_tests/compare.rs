//! `compare`: the edge between subnormal and normal in `value_class`, in every float format.

use conform_generators::Dtype;

use crate::compare::value_class;

#[test]
fn the_least_normal_is_normal_and_the_largest_subnormal_is_not() {
    for dtype in Dtype::FLOATS {
        let f = dtype.float_format().unwrap();
        assert_eq!(value_class(dtype, f.min_normal()), "normal", "{dtype}");
        assert_eq!(value_class(dtype, f.min_normal() | f.sign_bit()), "normal", "{dtype}");
        assert_eq!(value_class(dtype, f.min_normal() - 1), "subnormal", "{dtype}");
    }
}
