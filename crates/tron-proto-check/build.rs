//! Generates Rust types from TRON's vendored `.proto` files with prost-build, the `.proto`
//! files compiled by protox (pure Rust: no `protoc` to install). `google/protobuf/any.proto`
//! comes from protox's built-in well-known types; prost maps `Any` to `prost_types::Any`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let files =
        ["core/Tron.proto", "core/contract/balance_contract.proto", "core/contract/smart_contract.proto"];
    let descriptors = protox::compile(files, ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
