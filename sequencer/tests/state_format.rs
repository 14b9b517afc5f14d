//! A datadir written in another state format is refused at open with a clear error, instead of
//! failing on the first block that reads a leaf of the old layout.

mod common;

use alloy::signers::local::PrivateKeySigner;
use ctm_sequencer::SequencerError;
use ctm_sequencer::node::Node;
use ctm_sequencer::storage::STATE_FORMAT;

#[test]
fn a_datadir_of_another_state_format_is_refused() {
    let dir = std::env::temp_dir().join(format!("ctm-state-format-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let key = PrivateKeySigner::random();
    let cfg = common::dev_node_config(&dir, &[&key]);
    drop(Node::open(cfg.clone()).unwrap());
    drop(Node::open(cfg.clone()).expect("a datadir of this format reopens"));
    // A datadir from before formats were recorded (format 1: `Totals` without `locked`).
    {
        let db = redb::Database::open(dir.join("chain.redb")).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let meta: redb::TableDefinition<'_, &str, &[u8]> = redb::TableDefinition::new("meta");
            tx.open_table(meta).unwrap().remove("state_format").unwrap();
        }
        tx.commit().unwrap();
    }
    let Err(err) = Node::open(cfg) else { panic!("an old datadir opens") };
    assert!(
        matches!(err, SequencerError::StateFormat { expected: STATE_FORMAT, found: 1 }),
        "{err}"
    );
    assert!(err.to_string().contains("fresh --datadir"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
