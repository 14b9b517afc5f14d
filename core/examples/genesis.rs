//! Prints a genesis preset: token, allocation table with vesting milestones, chain parameters.
//! Usage: `cargo run -p ctm-core --example genesis -- [computronium|tspmo|dpin|path/to/preset.toml]`.

use ctm_core::config::{GenesisConfig, MONTH_SECS};

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "computronium".into());
    let cfg = if arg.ends_with(".toml") {
        std::fs::read_to_string(&arg)
            .map_err(|e| e.to_string())
            .and_then(|t| GenesisConfig::from_toml(&t).map_err(|e| e.to_string()))
    } else {
        GenesisConfig::preset(&arg).map_err(|e| e.to_string())
    };
    let cfg = match cfg {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let t = &cfg.token;
    println!(
        "preset {}: {} ({}), supply {} tokens, {} decimals",
        cfg.name, t.name, t.symbol, t.total_supply, t.decimals
    );
    println!(
        "L2 chain id {}, block time {} ms, state tree depth {}",
        cfg.chain.chain_id, cfg.chain.block_time_ms, cfg.chain.tree_depth
    );
    println!();
    println!(
        "{:<28} {:>14} {:>8}  {:<9} {:>5} {:>6}  {:>11} {:>11} {:>11}",
        "allocation", "tokens", "%", "release", "cliff", "months", "TGE", "+12 mo", "+48 mo"
    );
    for a in &cfg.allocations {
        println!(
            "{:<28} {:>14} {:>8.3}  {:<9} {:>5} {:>6}  {:>11} {:>11} {:>11}",
            a.name,
            a.amount,
            a.percent,
            format!("{:?}", a.release).to_lowercase(),
            a.cliff_months,
            a.vesting_months,
            a.vested_at(0),
            a.vested_at(12 * MONTH_SECS),
            a.vested_at(48 * MONTH_SECS),
        );
        if let Some(note) = &a.note {
            println!("{:<28} note: {note}", "");
        }
    }
}
