include!("../properties/build.rs");
