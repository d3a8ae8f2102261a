// SPDX-License-Identifier: GPL-2.0

//! Generates `uapi_generated.rs` from the UAPI header and `c_generated.rs`
//! from the C part's header (`c/guestmap.h`, its constants only), with the
//! parameters the module build uses, so the host tests check the very
//! constants and layouts the module is built with.

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::Command,
};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-env-changed=BINDGEN");
    // The kernel passes a --cfg per enabled option; the host builds the
    // kernel-only attributes out with CONFIG_RUST unset.
    println!("cargo::rustc-check-cfg=cfg(CONFIG_RUST)");
    bindgen(
        &root,
        &out,
        "rust/uapi/uapi.h",
        "rust/uapi/bindgen_parameters",
        &[],
        "uapi_generated.rs",
    );
    // Only the constants: the functions and structures are the kernel's
    // business, and name kernel types.
    bindgen(
        &root,
        &out,
        "c/guestmap.h",
        "src/sys/bindgen_parameters",
        &[
            "--allowlist-var",
            "GM_.*",
            "--allowlist-type",
            "gm_pgmap|gm_action",
        ],
        "c_generated.rs",
    );
}

/// Runs bindgen on `header` with the options in `params` (one per line;
/// single quotes only guard patterns from the shell in Kbuild, so they
/// are dropped here) and `extra`, into `out/name`.
fn bindgen(root: &Path, out: &Path, header: &str, params: &str, extra: &[&str], name: &str) {
    let header = root.join(header);
    let params = root.join(params);
    println!("cargo:rerun-if-changed={}", header.display());
    println!("cargo:rerun-if-changed={}", params.display());
    // And what the headers include: the UAPI wrapper pulls in both UAPI
    // headers.
    for dep in [
        "rust/helpers/ctypes.h",
        "include/uapi/linux/guestmap.h",
        "include/uapi/linux/guestmap_test.h",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dep).display());
    }

    let text = fs::read_to_string(&params).expect("read bindgen parameters");
    let mut args: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .map(|a| a.trim_matches('\'').to_string())
        .collect();
    // The host takes the C part's constants only: drop the module's item
    // allowlist.
    if !extra.is_empty() {
        if let Some(i) = args.iter().position(|a| a == "--allowlist-item") {
            args.drain(i..i + 2);
        }
    }

    let bindgen = env::var_os("BINDGEN").unwrap_or_else(|| "bindgen".into());
    let status = Command::new(&bindgen)
        .arg(&header)
        .args(&args)
        .args(extra)
        .args(["--ctypes-prefix", "core::ffi"])
        .arg("--clang-macro-fallback-build-dir")
        .arg(out)
        .arg("-o")
        .arg(out.join(name))
        .arg("--")
        .arg(format!("-I{}", root.join("include/uapi").display()))
        .status()
        .unwrap_or_else(|e| panic!("cannot run {bindgen:?} (set BINDGEN): {e}"));
    assert!(status.success(), "bindgen failed on {}", header.display());
}
