fn main(){ println!("{}", conform_properties::version()); }
