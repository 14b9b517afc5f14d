//! The `ctm-executor` binary end to end: train with a key, verify with spot checks, list
//! datasets, and fail cleanly on bad input.

mod common;

use std::process::{Command, Output};

use common::{TEST_KEY, temp_dir};

fn exe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ctm-executor"))
        .args(args)
        .env_remove("CTM_PROVIDER_KEY")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn train_then_verify_with_spot_checks() {
    let dir = temp_dir("cli");
    let d = dir.to_str().unwrap();
    let train = [
        "train",
        "--dataset",
        "iris",
        "--hidden",
        "16",
        "--batch-size",
        "8",
        "--lr",
        "0.2",
        "--epochs",
        "10",
        "--checkpoint-every",
        "15",
        "--out",
        d,
        "--job-id",
        "3",
    ];
    let mut with_key = train.to_vec();
    with_key.extend(["--key", TEST_KEY]);
    let o = exe(&with_key);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("held-out accuracy"), "{}", text(&o));
    assert!(dir.join("attestation.json").exists());
    // Running again resumes from the finished chain and changes nothing.
    let o = exe(&with_key);
    assert!(o.status.success() && text(&o).contains("resuming at step 150"), "{}", text(&o));

    let o = exe(&["verify", "--dir", d, "--spot-check", "3", "--sample-seed", "5"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("re-executed 3 of 10 segments"), "{}", text(&o));
    let o = exe(&["verify", "--dir", d, "--chain-id", "1"]);
    assert!(!o.status.success());
    let o = exe(&["verify", "--dir", d, "--dataset", "breast_cancer"]);
    assert!(!o.status.success() && text(&o).contains("dataset mismatch"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn datasets_lists_commitments() {
    let o = exe(&["datasets"]);
    assert!(o.status.success());
    for name in ["digits", "iris", "breast_cancer", "0x"] {
        assert!(text(&o).contains(name), "{}", text(&o));
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = temp_dir("cli-bad");
    let d = dir.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["train", "--dataset", "no-such-data", "--out", d], "not found"),
        (
            &[
                "train",
                "--dataset",
                "iris",
                "--dataset-commitment",
                &format!("0x{}", "00".repeat(32)),
                "--out",
                d,
            ],
            "dataset mismatch",
        ),
        (&["train", "--dataset", "iris", "--lr=-3", "--out", d], "learning_rate"),
        (&["train", "--dataset", "iris", "--key", "0x1234", "--out", d], "provider key"),
    ];
    for (args, want) in cases {
        let o = exe(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(want), "{args:?}: {}", text(&o));
        assert!(!text(&o).contains("panicked"), "{}", text(&o));
    }
    let _ = std::fs::remove_dir_all(dir);
}
