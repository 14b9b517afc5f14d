//! Genesis presets: the whitepapers' tables, exactly, and every validation rule names its field.

use ctm_core::config::{ConfigError, GenesisConfig, Holder, MONTH_SECS, PRESETS, Release};

#[test]
fn dpin_matches_the_whitepaper_table() {
    let cfg = GenesisConfig::preset("dpin").unwrap();
    assert_eq!(cfg.token.total_supply, 210_000_000);
    let rows: Vec<(&str, u64, f64, Release, u32, u32)> = cfg
        .allocations
        .iter()
        .map(|a| {
            (a.name.as_str(), a.amount, a.percent, a.release, a.cliff_months, a.vesting_months)
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("Airdrop Program", 180_600_000, 86.0, Release::Monthly, 0, 36),
            ("Core Contributor Reward", 12_600_000, 6.0, Release::Monthly, 12, 36),
            ("Super Nodes", 4_950_000, 2.357, Release::Monthly, 0, 36),
            ("Initial Liquidity", 4_200_000, 2.0, Release::Unlocked, 0, 0),
            ("Liquidity Bonds", 4_200_000, 2.0, Release::Unlocked, 0, 0),
            ("Community Governance", 3_450_000, 1.643, Release::Monthly, 6, 36),
        ]
    );
    // Rows whose schedule the whitepaper leaves open say so.
    for a in &cfg.allocations {
        if a.name == "Airdrop Program" || a.name == "Super Nodes" {
            assert!(a.note.as_deref().unwrap_or("").contains("unspecified"), "{}", a.name);
        }
    }
    // 12-month cliff then 36 equal monthly unlocks.
    let core = &cfg.allocations[1];
    assert_eq!(core.vested_at(12 * MONTH_SECS - 1), 0);
    assert_eq!(core.vested_at(12 * MONTH_SECS), 0);
    assert_eq!(core.vested_at(13 * MONTH_SECS), 12_600_000 / 36);
    assert_eq!(core.vested_at(48 * MONTH_SECS), 12_600_000);
    assert_eq!(core.vested_at(100 * MONTH_SECS), 12_600_000);
    let gov = &cfg.allocations[5];
    assert_eq!(gov.vested_at(6 * MONTH_SECS + 1), 0);
    assert_eq!(gov.vested_at(42 * MONTH_SECS), 3_450_000);
    assert_eq!(cfg.allocations[3].vested_at(0), 4_200_000, "unlocked at TGE");
}

#[test]
fn tspmo_matches_the_whitepaper_shares() {
    let cfg = GenesisConfig::preset("tspmo").unwrap();
    assert_eq!(cfg.token.total_supply, 1_000_000_000);
    let shares: Vec<(&str, u64)> =
        cfg.allocations.iter().map(|a| (a.name.as_str(), a.amount)).collect();
    assert_eq!(
        shares,
        vec![
            ("Public Sale", 400_000_000),
            ("Ecosystem Development", 200_000_000),
            ("Team & Advisors", 150_000_000),
            ("Staking & Rewards", 150_000_000),
            ("Reserve Fund", 100_000_000),
        ]
    );
    assert_eq!(cfg.allocations[3].holder, Holder::StakingRewards);
}

#[test]
fn vesting_never_decreases_nor_exceeds_the_allocation() {
    for (name, _) in PRESETS {
        let cfg = GenesisConfig::preset(name).unwrap();
        for a in &cfg.allocations {
            let mut last = 0;
            for month in 0..=80u64 {
                for offset in [0, MONTH_SECS / 2] {
                    let v = a.vested_at(month * MONTH_SECS + offset);
                    assert!(v >= last && v <= a.amount, "{name}/{}", a.name);
                    last = v;
                }
            }
            assert_eq!(last, a.amount, "{name}/{} fully vests", a.name);
        }
    }
}

fn broken(edit: impl Fn(&mut toml::Table)) -> ConfigError {
    let mut t: toml::Table = toml::from_str(PRESETS[2].1).unwrap();
    edit(&mut t);
    GenesisConfig::from_toml(&toml::to_string(&t).unwrap()).unwrap_err()
}

fn field(e: ConfigError) -> String {
    match e {
        ConfigError::Invalid { field, .. } => field,
        other => panic!("expected a field error, got {other}"),
    }
}

fn alloc(t: &mut toml::Table, i: usize) -> &mut toml::Table {
    t["allocations"].as_array_mut().unwrap()[i].as_table_mut().unwrap()
}

#[test]
fn invalid_configs_name_the_field() {
    assert_eq!(
        field(broken(|t| {
            alloc(t, 0).insert("amount".into(), 1.into());
        })),
        "allocations[0].percent"
    );
    assert_eq!(
        field(broken(|t| {
            alloc(t, 0).insert("amount".into(), 180_000_000.into());
            alloc(t, 0).insert("percent".into(), 85.714.into());
        })),
        "allocations"
    );
    assert_eq!(
        field(broken(|t| {
            alloc(t, 1).insert("cliff_months".into(), 40.into());
        })),
        "allocations[1].cliff_months"
    );
    assert_eq!(
        field(broken(|t| {
            t["chain"].as_table_mut().unwrap().insert("block_time_ms".into(), 0.into());
        })),
        "chain.block_time_ms"
    );
    assert_eq!(
        field(broken(|t| {
            t["chain"].as_table_mut().unwrap().insert("chain_id".into(), 0.into());
        })),
        "chain.chain_id"
    );
    assert_eq!(
        field(broken(|t| {
            t["marketplace"]
                .as_table_mut()
                .unwrap()
                .insert("protocol_fee_bps".into(), 10_001.into());
        })),
        "marketplace.protocol_fee_bps"
    );
    assert_eq!(
        field(broken(|t| {
            alloc(t, 3).insert("cliff_months".into(), 3.into());
        })),
        "allocations[3].release"
    );
    assert_eq!(
        field(broken(|t| {
            alloc(t, 0).insert("vesting_months".into(), 0.into());
        })),
        "allocations[0].vesting_months"
    );
    assert_eq!(
        field(broken(|t| {
            t["token"].as_table_mut().unwrap().insert("total_supply".into(), 0.into());
        })),
        "token.total_supply"
    );
    assert!(matches!(
        broken(|t| {
            t.insert("surprise".into(), 1.into());
        }),
        ConfigError::Parse(_)
    ));
}

#[test]
fn a_user_can_write_their_own_preset() {
    let text = r#"
name = "mine"
[token]
name = "Mine"
symbol = "MINE"
decimals = 18
total_supply = 100
[chain]
chain_id = 7
block_time_ms = 100
block_gas_limit = 30000000
initial_base_fee = 10
min_base_fee = 1
batch_max_blocks = 8
deposit_deadline_secs = 60
escape_hatch_secs = 600
tree_depth = 32
[marketplace]
protocol_fee_bps = 100
fee_burn_bps = 10000
challenge_window_secs = 10
min_provider_stake = 1
provider_unbonding_secs = 10
slash_burn_bps = 0
channel_challenge_secs = 10
[[allocations]]
name = "All"
holder = "liquidity"
amount = 100
percent = 100.0
release = "unlocked"
"#;
    let cfg = GenesisConfig::from_toml(text).unwrap();
    assert_eq!(cfg.token.total_supply_base(), 100 * 10u128.pow(18));
}
