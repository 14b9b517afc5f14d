//! The one canonical binary encoding of state keys and values.
//!
//! Fixed-width big-endian fields in declaration order, no lengths, no padding (the layout of
//! Solidity's `abi.encodePacked`). Decoding is strict: trailing bytes, a short buffer, an unknown
//! enum tag or a non-0/1 bool are errors, so every value has exactly one encoding and the leaf hash
//! of a value is a function of the value.

use alloy_primitives::{Address, B256};

/// A decoding failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The buffer ended before the value did.
    #[error("encoding too short: needed {needed} more bytes")]
    Short {
        /// Bytes missing.
        needed: usize,
    },
    /// Bytes left after the value.
    #[error("{0} trailing bytes after the value")]
    Trailing(usize),
    /// An enum tag or flag outside its range.
    #[error("invalid {what} tag {tag}")]
    BadTag {
        /// Which enum.
        what: &'static str,
        /// The tag read.
        tag: u8,
    },
}

/// Appends fields to a buffer.
#[derive(Default, Debug)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    /// Writes one byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    /// Writes a bool as one byte 0/1.
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(u8::from(v))
    }
    /// Writes a big-endian u16.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Writes a big-endian u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Writes a big-endian u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Writes a big-endian u128.
    pub fn u128(&mut self, v: u128) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Writes 20 address bytes.
    pub fn address(&mut self, v: &Address) -> &mut Self {
        self.0.extend_from_slice(v.as_slice());
        self
    }
    /// Writes 32 bytes.
    pub fn b256(&mut self, v: &B256) -> &mut Self {
        self.0.extend_from_slice(v.as_slice());
        self
    }
    /// Writes fixed-size raw bytes.
    pub fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }
}

/// Reads fields from a buffer.
#[derive(Debug)]
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// Starts reading `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self(bytes)
    }
    fn take<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        if self.0.len() < N {
            return Err(CodecError::Short { needed: N - self.0.len() });
        }
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        let mut out = [0u8; N];
        out.copy_from_slice(head);
        Ok(out)
    }
    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take::<1>()?[0])
    }
    /// Reads a strict bool.
    pub fn bool(&mut self) -> Result<bool, CodecError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(CodecError::BadTag { what: "bool", tag }),
        }
    }
    /// Reads a big-endian u16.
    pub fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_be_bytes(self.take()?))
    }
    /// Reads a big-endian u32.
    pub fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_be_bytes(self.take()?))
    }
    /// Reads a big-endian u64.
    pub fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_be_bytes(self.take()?))
    }
    /// Reads a big-endian u128.
    pub fn u128(&mut self) -> Result<u128, CodecError> {
        Ok(u128::from_be_bytes(self.take()?))
    }
    /// Reads an address.
    pub fn address(&mut self) -> Result<Address, CodecError> {
        Ok(Address::from(self.take::<20>()?))
    }
    /// Reads 32 bytes.
    pub fn b256(&mut self) -> Result<B256, CodecError> {
        Ok(B256::from(self.take::<32>()?))
    }
    /// Reads `N` raw bytes.
    pub fn raw<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        self.take()
    }
    /// Fails unless every byte was consumed.
    pub fn finish(self) -> Result<(), CodecError> {
        if self.0.is_empty() { Ok(()) } else { Err(CodecError::Trailing(self.0.len())) }
    }
}

/// A type with one canonical encoding.
pub trait Codec: Sized {
    /// Appends the encoding.
    fn write(&self, w: &mut Writer);
    /// Reads one value.
    fn read(r: &mut Reader<'_>) -> Result<Self, CodecError>;

    /// The canonical bytes.
    fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        self.write(&mut w);
        w.0
    }

    /// Decodes exactly `bytes`, rejecting trailing data.
    fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(bytes);
        let v = Self::read(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

/// Declares a fieldless `u8`-tagged enum with a strict [`Codec`].
#[macro_export]
macro_rules! tagged_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($(#[$vm:meta])* $var:ident = $tag:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[repr(u8)]
        $vis enum $name { $($(#[$vm])* $var = $tag),+ }

        impl $name {
            /// Every variant, in tag order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
        }

        impl Default for $name {
            fn default() -> Self {
                Self::ALL[0]
            }
        }

        impl $crate::codec::Codec for $name {
            fn write(&self, w: &mut $crate::codec::Writer) {
                w.u8(*self as u8);
            }
            fn read(r: &mut $crate::codec::Reader<'_>) -> Result<Self, $crate::codec::CodecError> {
                match r.u8()? {
                    $($tag => Ok($name::$var),)+
                    tag => Err($crate::codec::CodecError::BadTag { what: stringify!($name), tag }),
                }
            }
        }
    };
}

macro_rules! primitive_codec {
    ($($t:ty => $m:ident),+ $(,)?) => {$(
        impl Codec for $t {
            fn write(&self, w: &mut Writer) {
                w.$m(*self);
            }
            fn read(r: &mut Reader<'_>) -> Result<Self, CodecError> {
                r.$m()
            }
        }
    )+};
}
primitive_codec!(u8 => u8, bool => bool, u16 => u16, u32 => u32, u64 => u64, u128 => u128);

impl Codec for Address {
    fn write(&self, w: &mut Writer) {
        w.address(self);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.address()
    }
}

impl Codec for B256 {
    fn write(&self, w: &mut Writer) {
        w.b256(self);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.b256()
    }
}

impl<const N: usize> Codec for [u8; N] {
    fn write(&self, w: &mut Writer) {
        w.raw(self);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        r.raw()
    }
}

/// Declares a plain struct whose [`Codec`] writes its fields in declaration order.
#[macro_export]
macro_rules! codec_struct {
    ($(#[$m:meta])* $vis:vis struct $name:ident { $($(#[$fm:meta])* $fvis:vis $field:ident : $ty:ty),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
        $vis struct $name { $($(#[$fm])* $fvis $field: $ty),+ }

        impl $crate::codec::Codec for $name {
            fn write(&self, w: &mut $crate::codec::Writer) {
                $($crate::codec::Codec::write(&self.$field, w);)+
            }
            fn read(r: &mut $crate::codec::Reader<'_>) -> Result<Self, $crate::codec::CodecError> {
                Ok(Self { $($field: $crate::codec::Codec::read(r)?),+ })
            }
        }
    };
}
