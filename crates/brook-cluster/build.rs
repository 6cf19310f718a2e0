//! Compiles `proto/control.proto` into Rust for the `rpc` feature, with protox (a
//! protobuf compiler in Rust), so that building Brook needs no system `protoc`.

fn main() {
    println!("cargo:rerun-if-changed=proto/control.proto");
    #[cfg(feature = "rpc")]
    {
        let descriptors = match protox::compile(["control.proto"], ["proto"]) {
            Ok(descriptors) => descriptors,
            Err(e) => panic!("cannot parse crates/brook-cluster/proto/control.proto: {e}"),
        };
        if let Err(e) = tonic_prost_build::configure().compile_fds(descriptors) {
            panic!("cannot generate the gRPC code of proto/control.proto: {e}");
        }
    }
}
