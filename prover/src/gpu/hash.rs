//! [`ProverKeccak`]: the keccak-256 of the Merkle leaves (serialized LDE rows), on the GPU in
//! large batches when there is one, else Plonky3's `Keccak256Hash` (AVX2, four lanes).

use p3_keccak::Keccak256Hash;
use p3_symmetric::CryptographicHasher;

use super::{Backend, Device};

/// Rows per `hash_many` call in `cuda` builds: Plonky3's `MerkleTreeMmcs` sizes its batches by
/// the hasher's `LANES`, so a large value hands the device thousands of rows per call.
pub const GPU_HASH_ROWS: usize = 1 << 12;

/// Keccak-256 over bytes, digests identical to `Keccak256Hash`'s; `hash_many` (the leaf layer of
/// every Merkle commitment) runs on the GPU in `cuda` builds with a device.
#[derive(Clone, Debug, Default)]
pub struct ProverKeccak {
    #[cfg_attr(not(feature = "cuda"), allow(dead_code))]
    device: Device,
}

impl ProverKeccak {
    /// The hasher on `backend`.
    pub fn new(backend: Backend) -> Self {
        Self { device: Device::new(backend) }
    }
}

impl CryptographicHasher<u8, [u8; 32]> for ProverKeccak {
    const LANES: usize = if cfg!(feature = "cuda") {
        GPU_HASH_ROWS
    } else {
        <Keccak256Hash as CryptographicHasher<u8, [u8; 32]>>::LANES
    };

    fn hash_iter<I>(&self, input: I) -> [u8; 32]
    where
        I: IntoIterator<Item = u8>,
    {
        Keccak256Hash.hash_iter(input)
    }

    fn hash_iter_slices<'a, I>(&self, input: I) -> [u8; 32]
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        Keccak256Hash.hash_iter_slices(input)
    }

    fn hash_many(&self, input: &[u8], out: &mut [[u8; 32]]) {
        #[cfg(feature = "cuda")]
        if out.len() >= 256
            && !input.is_empty()
            && self.device.run("keccak", |g| g.keccak_many(input, out)).is_some()
        {
            return;
        }
        Keccak256Hash.hash_many(input, out)
    }
}
