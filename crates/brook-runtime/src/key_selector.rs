//! Key selectors: how a keyed operator gets the key of a record.
//!
//! Flink's `KeySelector` returns the key; in Rust that means a clone of a `String`
//! key for every record. A [`KeySelector`] instead lends its key to a closure, so a
//! selector that borrows the key from the record ([`BorrowedKey`], made by
//! `key_by_ref(|t| &t.0)`) never allocates: the partitioner hashes the borrowed
//! key, and keyed state clones it only when a new key is inserted.

use brook_types::Data;
use brook_types::key_group::KeyHash;
use std::hash::Hash;
use std::marker::PhantomData;

/// Extracts the key of a record.
pub trait KeySelector<T>: Clone + Send + Sync + 'static {
    type Key: Data + Hash + Eq + KeyHash;

    /// Calls `f` with the key of `value`, borrowed from it where possible.
    fn with_key<R>(&self, value: &T, f: impl FnOnce(&Self::Key) -> R) -> R;

    /// The key as an owned value.
    fn key(&self, value: &T) -> Self::Key {
        self.with_key(value, Clone::clone)
    }
}

/// A selector returning an owned key: `key_by(|t| t.0.clone())`.
pub struct OwnedKey<F, K> {
    f: F,
    _key: PhantomData<fn() -> K>,
}

impl<F: Clone, K> Clone for OwnedKey<F, K> {
    fn clone(&self) -> Self {
        Self { f: self.f.clone(), _key: PhantomData }
    }
}

impl<F, K> OwnedKey<F, K> {
    pub fn new(f: F) -> Self {
        Self { f, _key: PhantomData }
    }
}

impl<T, K, F> KeySelector<T> for OwnedKey<F, K>
where
    K: Data + Hash + Eq + KeyHash,
    F: Fn(&T) -> K + Clone + Send + Sync + 'static,
{
    type Key = K;

    #[inline]
    fn with_key<R>(&self, value: &T, f: impl FnOnce(&K) -> R) -> R {
        f(&(self.f)(value))
    }

    #[inline]
    fn key(&self, value: &T) -> K {
        (self.f)(value)
    }
}

/// A selector borrowing the key from the record: `key_by_ref(|t| &t.0)`.
pub struct BorrowedKey<F, K> {
    f: F,
    _key: PhantomData<fn() -> K>,
}

impl<F: Clone, K> Clone for BorrowedKey<F, K> {
    fn clone(&self) -> Self {
        Self { f: self.f.clone(), _key: PhantomData }
    }
}

impl<F, K> BorrowedKey<F, K> {
    pub fn new(f: F) -> Self {
        Self { f, _key: PhantomData }
    }
}

impl<T, K, F> KeySelector<T> for BorrowedKey<F, K>
where
    K: Data + Hash + Eq + KeyHash,
    F: for<'a> Fn(&'a T) -> &'a K + Clone + Send + Sync + 'static,
{
    type Key = K;

    #[inline]
    fn with_key<R>(&self, value: &T, f: impl FnOnce(&K) -> R) -> R {
        f((self.f)(value))
    }
}
