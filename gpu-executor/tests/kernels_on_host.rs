//! Checks the CUDA kernel *source* without a GPU: the kernels are compiled as plain C++ on the
//! host (`ctm_testkit::cuda_host`: macros stand in for the CUDA keywords, a loop for the grid),
//! driven step by step like `backend::cuda`, and must give the CPU reference's weights bit for bit. Skips when no
//! C++ compiler is installed. (`gpu_*` tests check the real device.)

mod common;

use std::fmt::Write as _;

use ctm_gpu_executor::backend::kernels::source;
use ctm_gpu_executor::bench::workload;
use ctm_gpu_executor::prep::Schedule;
use ctm_gpu_executor::{BackendKind, Job, ModelKind, Weights};
use ctm_testkit::cuda_host;

/// Reads the job from stdin, runs the steps with the kernels, prints the final weights.
const DRIVER: &str = r#"
static long long rd() { long long v; if (scanf("%lld", &v) != 1) throw 1; return v; }
int main() {
    int nd = rd(); std::vector<int> d(nd); for (auto& v : d) v = rd();
    int B = rd(); long long lr = rd(); int n = rd(); int L = nd - 1;
    std::vector<int> x((size_t)n * d[0]), y(n); for (auto& v : x) v = rd(); for (auto& v : y) v = rd();
    std::vector<std::vector<int>> w(L); std::vector<std::vector<long long>> gw(L);
    for (int l = 0; l < L; l++) { w[l].resize((d[l] + 1) * d[l + 1]); gw[l].resize(w[l].size()); for (auto& v : w[l]) v = rd(); }
    std::vector<std::vector<int>> a(nd), g(nd); for (int l = 0; l < nd; l++) { a[l].resize(B * d[l]); g[l].resize(B * d[l]); }
    std::vector<int> yb(B); std::vector<unsigned> order(n);
    int steps = rd(); long long denom = (long long)B << 16;
    for (int s = 0; s < steps; s++) {
        int off = rd(); for (auto& v : order) v = rd();
        LAUNCH(B * d[0], gather_rows(x.data(), order.data(), off, a[0].data(), B, d[0]));
        LAUNCH(B, gather_rows(y.data(), order.data(), off, yb.data(), B, 1));
        for (int l = 0; l < L; l++)
            LAUNCH(B * d[l + 1], linear_forward(a[l].data(), w[l].data(), a[l + 1].data(), B, d[l], d[l + 1], l + 1 < L));
        LAUNCH(B, softmax_xent_grad(a[L].data(), yb.data(), g[L].data(), B, d[L]));
        for (int l = L - 1; l >= 0; l--) {
            int nw = (int)w[l].size();
            LAUNCH(nw, weight_grad(a[l].data(), g[l + 1].data(), gw[l].data(), B, d[l], d[l + 1]));
            if (l > 0) LAUNCH(B * d[l], input_grad(g[l + 1].data(), w[l].data(), a[l].data(), g[l].data(), B, d[l], d[l + 1]));
            LAUNCH(nw, sgd_update(w[l].data(), gw[l].data(), nw, lr, denom));
        }
    }
    for (int l = 0; l < L; l++) for (int v : w[l]) printf("%d\n", v);
    return 0;
}
"#;

fn check(job: &Job, steps: u64, tag: &str) {
    let init = Weights::init(&job.spec);
    let t = &job.data.train;
    let mut input = String::new();
    let dims = job.spec.dims();
    write!(input, "{} ", dims.len()).unwrap();
    dims.iter().for_each(|v| write!(input, "{v} ").unwrap());
    write!(input, "{} {} {} ", job.spec.batch_size, job.spec.learning_rate, t.rows()).unwrap();
    t.features.iter().chain(&t.labels).for_each(|v| write!(input, "{v} ").unwrap());
    init.layers.iter().flatten().for_each(|v| write!(input, "{v} ").unwrap());
    write!(input, "{steps} ").unwrap();
    let mut sched = Schedule::new(t.rows(), job.spec.batch_size, job.spec.seed);
    for s in 0..steps {
        write!(input, "{} ", sched.offset(s)).unwrap();
        let e = sched.epoch_of(s);
        sched.epoch_order(e).iter().for_each(|v| write!(input, "{v} ").unwrap());
    }
    let Some(out) = cuda_host::run(&format!("exec-{tag}"), &source(), DRIVER, &input) else {
        return;
    };
    let got: Vec<i32> = out.lines().map(|l| l.parse().unwrap()).collect();

    let mut cpu = init.clone();
    job.run_steps(BackendKind::Cpu, &mut cpu, 0, steps).unwrap();
    let want: Vec<i32> = cpu.layers.iter().flatten().copied().collect();
    assert_ne!(want, init.layers.concat(), "training changed nothing");
    assert!(got == want, "{tag}: kernel weights differ from the CPU reference");
}

#[test]
fn kernels_match_cpu_mlp() {
    check(&workload("digits").unwrap().job().unwrap(), 100, "mlp");
}

#[test]
fn kernels_match_cpu_logreg() {
    check(&workload("breast_cancer").unwrap().job().unwrap(), 80, "logreg");
}

#[test]
fn kernels_match_cpu_deep_and_saturating() {
    let mut job = workload("iris").unwrap().job().unwrap();
    job.spec.model = ModelKind::Mlp { hidden: vec![12, 6] };
    job.spec.learning_rate = 12 << 16;
    check(&job, 60, "deep");
}
