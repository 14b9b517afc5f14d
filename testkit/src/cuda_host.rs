//! Runs CUDA kernel *source* on the host: the kernels compile as plain C++ once a prelude
//! defines the CUDA keywords away and a `LAUNCH(n, call)` loop stands in for the grid (one
//! thread per block, `blockIdx.x` counting up). Lets kernel tests run on machines without a GPU.

use std::process::Command;

/// Defines `__global__`, `__device__`, `__constant__`, `__forceinline__`, `blockIdx`/`blockDim`/
/// `threadIdx` and `LAUNCH(n, call)`.
pub const PRELUDE: &str = r#"
#include <cstdio>
#include <vector>
#define __global__
#define __device__
#define __constant__ static
#define __forceinline__ inline
struct Dim3 { unsigned long long x; };
static Dim3 blockIdx, blockDim = {1}, threadIdx = {0};
#define LAUNCH(n, call) for (unsigned long long t_ = 0; t_ < (unsigned long long)(n); t_++) { blockIdx.x = t_; call; }
"#;

/// The first of `c++`, `g++`, `clang++` that runs.
pub fn compiler() -> Option<&'static str> {
    ["c++", "g++", "clang++"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
}

/// Compiles `PRELUDE + kernels + driver` with `-O2` and runs it with `input` on stdin; returns
/// its stdout, or `None` (after saying so on stderr) when no C++ compiler is installed. Panics
/// when the source does not compile or the program fails.
pub fn run(tag: &str, kernels: &str, driver: &str, input: &str) -> Option<String> {
    let Some(cxx) = compiler() else {
        eprintln!("no C++ compiler: skipping the host run of the CUDA kernels ({tag})");
        return None;
    };
    let dir = std::env::temp_dir().join(format!("ctm-cuda-host-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("kernels.cpp");
    std::fs::write(&src, format!("{PRELUDE}{kernels}{driver}")).unwrap();
    let bin = dir.join("kernels");
    let out = Command::new(cxx)
        .args(["-O2", "-fno-strict-aliasing", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .unwrap();
    assert!(out.status.success(), "{tag}: {}", String::from_utf8_lossy(&out.stderr));
    let input_path = dir.join("input.txt");
    std::fs::write(&input_path, input).unwrap();
    let out = Command::new(&bin).stdin(std::fs::File::open(&input_path).unwrap()).output().unwrap();
    assert!(out.status.success(), "{tag}: {}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(dir);
    Some(String::from_utf8(out.stdout).unwrap())
}
