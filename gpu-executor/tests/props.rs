//! Property tests: encodings round-trip, parsers never panic on garbage, the integer softmax
//! stays in range, and the CPU kernels give the same result for any thread count.

use ctm_gpu_executor::backend::cpu::{input_grad, linear_forward, sgd_update};
use ctm_gpu_executor::fixed::{ONE, VALUE_MAX, softmax_xent_grad, xent_loss};
use ctm_gpu_executor::{Dataset, Weights};
use proptest::prelude::*;

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn weights_bytes_round_trip(dims in prop::collection::vec(1usize..7, 2..5), seed in any::<u64>()) {
        let mut x = seed;
        let layers = dims
            .windows(2)
            .map(|w| (0..(w[0] + 1) * w[1]).map(|_| { x = x.wrapping_mul(6364136223846793005).wrapping_add(1); (x >> 32) as i32 }).collect())
            .collect();
        let w = Weights { dims, layers };
        prop_assert_eq!(Weights::from_bytes(&w.to_bytes()).unwrap(), w);
    }

    #[test]
    fn weights_decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut b = b"CTMW".to_vec();
        b.extend(bytes);
        let _ = Weights::from_bytes(&b);
    }

    #[test]
    fn dataset_parser_never_panics(text in "[0-9a-z,.\\-e \n]{0,200}") {
        let _ = Dataset::parse("fuzz", text.as_bytes());
    }

    #[test]
    fn softmax_stays_in_range(z in prop::collection::vec(-VALUE_MAX..VALUE_MAX, 2..12), label in 0usize..12) {
        let z: Vec<i32> = z.into_iter().map(|v| v as i32).collect();
        let label = label % z.len();
        let mut g = vec![0; z.len()];
        softmax_xent_grad(&z, label, &mut g);
        let mut p_sum = 0i64;
        for (j, &gj) in g.iter().enumerate() {
            let p = i64::from(gj) + if j == label { ONE } else { 0 };
            prop_assert!((0..=ONE).contains(&p));
            p_sum += p;
        }
        prop_assert!((p_sum - ONE).abs() <= z.len() as i64);
        prop_assert!(xent_loss(&z, label) >= 0);
    }

    #[test]
    fn cpu_kernels_do_not_depend_on_thread_count(
        batch in 1usize..64, inputs in 1usize..200, outputs in 1usize..100, seed in any::<u64>()
    ) {
        let mut x = seed;
        let mut next = move |m: i64| { x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); ((x >> 33) as i64 % (2 * m + 1) - m) as i32 };
        let a: Vec<i32> = (0..batch * inputs).map(|_| next(4 * ONE)).collect();
        let w: Vec<i32> = (0..(inputs + 1) * outputs).map(|_| next(ONE)).collect();
        let g: Vec<i32> = (0..batch * outputs).map(|_| next(ONE)).collect();
        let run = |threads| in_pool(threads, || {
            let mut z = vec![0; batch * outputs];
            linear_forward(&a, &w, &mut z, inputs, true);
            let mut gi = vec![0; batch * inputs];
            input_grad(&g, &w, &a, &mut gi, inputs);
            let mut w2 = w.clone();
            sgd_update(&mut w2, &a, &g, inputs, batch, ONE / 4);
            (z, gi, w2)
        });
        prop_assert_eq!(run(1), run(3));
    }
}
