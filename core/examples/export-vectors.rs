//! Writes the state-commitment test vectors (see `ctm_core::vectors`) for other implementations.
//! Usage: `cargo run -p ctm-core --example export-vectors [-- OUT]`.

fn main() -> std::io::Result<()> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("{root}/{}", ctm_core::vectors::VECTOR_FILE));
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(&ctm_core::vectors::export())
        .map_err(std::io::Error::other)?;
    std::fs::write(&out, text + "\n")?;
    eprintln!("wrote {out}");
    Ok(())
}
