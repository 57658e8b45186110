use tch::{Device, Kind, Tensor};
fn show(name: &str, r: Result<Tensor, tch::TchError>) {
    match r {
        Ok(t) => println!("{name}: OK size={:?} stride={:?} numel={}", t.size(), t.stride(), t.numel()),
        Err(e) => println!("{name}: ERR {}", e.to_string().lines().next().unwrap_or("")),
    }
}
fn main() {
    let arg = std::env::args().nth(1).unwrap_or_default();
    let x = Tensor::f_zeros([1], (Kind::Float, Device::Cpu)).unwrap();
    let neg = x.f_as_strided([0, -5], [0, 0], 0).unwrap();
    println!("neg {:?} {:?}", neg.size(), neg.stride());
    match arg.as_str() {
        "contiguous" => show("contiguous", neg.f_contiguous()),
        "clone" => show("clone", neg.f_clone(&neg)),
        "reshape" => show("reshape", neg.f_reshape([-1])),
        "view" => show("view", neg.f_view_(&[0])),
        "sum" => show("sum", neg.f_sum(Kind::Float)),
        "to_kind" => show("to_kind", neg.f_to_kind(Kind::Double)),
        "add" => show("add", neg.f_add(&neg)),
        "empty_like" => show("empty_like", neg.f_empty_like()),
        "zeros_like" => show("zeros_like", neg.f_zeros_like()),
        "print" => println!("{neg}"),
        "transpose" => show("transpose", neg.f_transpose(0, 1).and_then(|t| t.f_contiguous())),
        "expand" => {
            let e = x.f_expand([0, -1, -7], false);
            show("expand", e);
        }
        "flatten" => show("flatten", neg.f_flatten(0, -1)),
        "cat" => show("cat", Tensor::f_cat(&[&neg, &neg], 0)),
        "select" => show("select", neg.f_select(1, 0)),
        "unfold" => show("unfold", neg.f_unfold(1, 1, 1)),
        "repeat" => show("repeat", neg.f_repeat([1, 2])),
        "mean" => show("mean", neg.f_mean(Kind::Float)),
        "copy" => {
            let mut d = vec![0u8; 0];
            println!("{:?}", neg.f_copy_data_u8(&mut d, 0));
        }
        "narrow" => show("narrow", neg.f_narrow(1, 0, 0)),
        "slice" => show("slice", neg.f_slice(1, 0, 2, 1)),
        "matmul" => show("matmul", neg.f_matmul(&neg.f_transpose(0, 1).unwrap())),
        "index" => show("index", neg.f_index_select(1, &Tensor::from_slice(&[0i64]))),
        "permute" => show("permute", neg.f_permute([1, 0])),
        "squeeze" => show("squeeze", neg.f_squeeze()),
        "max" => show("max", neg.f_max()),
        "neg_numel" => println!("numel tch {}", neg.numel()),
        _ => {}
    }
}
