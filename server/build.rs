//! Copies the web bundle (`frontend/dist`, built by trunk) into `OUT_DIR/dist`, with a
//! gzip and a brotli copy of every compressible file, for `assets` to embed. Without a
//! bundle, a page saying how to build it takes its place, so the server always builds.
//! Beside the bundle goes `emoji.json`, the emoji of Unicode with their names (from the
//! `emojis` crate) for the web app's picker, served at `/api/emoji` and fetched on its
//! first use: that table never enters the WebAssembly bundle.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const COMPRESSIBLE: &[&str] = &[
    "html", "js", "wasm", "css", "svg", "json", "txt", "map", "ico",
];

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let bundle = manifest.join("../frontend/dist");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("dist");
    println!("cargo:rerun-if-changed=../frontend/dist");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).expect("create OUT_DIR/dist");
    if bundle.join("index.html").is_file() {
        copy_tree(&bundle, &out);
    } else {
        println!("cargo:warning=frontend/dist is missing: the binary serves a placeholder page (build the bundle with `scripts/dev build`)");
        fs::write(
            out.join("index.html"),
            "<!doctype html><meta charset=utf-8><title>Parlor</title>\
             <p>This Parlor binary was built without its web app. Build it with <code>scripts/dev build</code>.</p>",
        )
        .expect("write placeholder");
    }
    write_file(&out.join("emoji.json"), &emoji_table());
}

/// `[["😀","grinning face","grinning"],…]`: every emoji of Unicode (default skin
/// tone), in CLDR order, its name and its first shortcode (empty when it has none).
fn emoji_table() -> Vec<u8> {
    let mut json = String::from("[");
    for (i, e) in emojis::iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        json.push_str(&format!(
            "[\"{}\",\"{}\",\"{}\"]",
            quote(e.as_str()),
            quote(e.name()),
            quote(e.shortcode().unwrap_or(""))
        ));
    }
    json.push(']');
    json.into_bytes()
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).expect("read bundle dir") {
        let entry = entry.expect("bundle entry");
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            fs::create_dir_all(&target).expect("create dir");
            copy_tree(&path, &target);
            continue;
        }
        let bytes = fs::read(&path).expect("read bundle file");
        write_file(&target, &bytes);
    }
}

/// Writes one file of the bundle, and its gzip and brotli copies when it compresses.
fn write_file(target: &Path, bytes: &[u8]) {
    fs::write(target, bytes).expect("write bundle file");
    let ext = target.extension().and_then(|e| e.to_str()).unwrap_or("");
    if COMPRESSIBLE.contains(&ext) && bytes.len() > 256 {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(bytes).expect("gzip");
        fs::write(with_suffix(target, "gz"), gz.finish().expect("gzip")).expect("write .gz");
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 9,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &bytes[..], &mut br, &params).expect("brotli");
        fs::write(with_suffix(target, "br"), br).expect("write .br");
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".");
    s.push(suffix);
    PathBuf::from(s)
}
