//! stub
pub fn version() -> String { format!("{:?}", tch::Kind::Float) }
