// SPDX-License-Identifier: GPL-2.0

//! Generates `uapi_generated.rs` from the UAPI header, with the parameters
//! the module build uses (`rust/uapi/bindgen_parameters`), so the host
//! tests check the very constants and layouts the module is built with.

use std::{env, fs, path::PathBuf, process::Command};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let header = root.join("include/uapi/linux/guestmap.h");
    let params = root.join("rust/uapi/bindgen_parameters");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed={}", header.display());
    println!("cargo:rerun-if-changed={}", params.display());
    println!("cargo:rerun-if-env-changed=BINDGEN");

    // One option per line; single quotes only guard patterns from the
    // shell in Kbuild, so they are dropped here.
    let text = fs::read_to_string(&params).expect("read bindgen_parameters");
    let args = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .map(|a| a.trim_matches('\''));

    let bindgen = env::var_os("BINDGEN").unwrap_or_else(|| "bindgen".into());
    let status = Command::new(&bindgen)
        .arg(&header)
        .args(args)
        .args(["--ctypes-prefix", "core::ffi"])
        .arg("--clang-macro-fallback-build-dir")
        .arg(&out)
        .arg("-o")
        .arg(out.join("uapi_generated.rs"))
        .status()
        .unwrap_or_else(|e| panic!("cannot run {bindgen:?} (set BINDGEN): {e}"));
    assert!(status.success(), "bindgen failed on {}", header.display());
}
