//! placeholder
#[allow(clippy::all, rust_2018_idioms)]
pub mod proto {
    tonic::include_proto!("brook.control");
}
