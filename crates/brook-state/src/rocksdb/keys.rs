//! The row keys of the RocksDB backend.
//!
//! ```text
//! key group (u16 BE) ‖ u32 BE length ‖ bincode(key) ‖ u32 BE length ‖ bincode(namespace) [‖ bincode(user key)]
//! ```
//!
//! The key group comes first, so that a subtask's rows are one contiguous range
//! per key group (a rescaling restore copies or deletes whole ranges). The key and
//! namespace carry their lengths, so that `key group ‖ key ‖ namespace` — the
//! *prefix* — is prefix-free: a map state's entries of one (key, namespace) are
//! exactly the rows that start with its prefix, and a row can be split into its
//! parts without knowing the types (snapshots of states no one has used yet,
//! counting entries).

use serde::Serialize;

/// The bytes of the key group `key_group`.
#[inline]
pub(crate) fn key_group_bytes(key_group: usize) -> [u8; 2] {
    u16::try_from(key_group).expect("key groups are fewer than 2^16 (max parallelism is at most 32768)").to_be_bytes()
}

/// Appends `bincode(value)` preceded by its length.
fn put_part<T: Serialize + ?Sized>(buf: &mut Vec<u8>, value: &T) -> bincode::Result<()> {
    let at = buf.len();
    buf.extend_from_slice(&[0; 4]);
    bincode::serialize_into(&mut *buf, value)?;
    let len = u32::try_from(buf.len() - at - 4).map_err(|_| Box::new(bincode::ErrorKind::SizeLimit))?;
    buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// The prefix `key group ‖ key ‖ namespace` of a (key, namespace).
pub(crate) fn prefix<K: Serialize + ?Sized, N: Serialize + ?Sized>(
    key_group: usize,
    key: &K,
    namespace: &N,
) -> bincode::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(32);
    buf.extend_from_slice(&key_group_bytes(key_group));
    put_part(&mut buf, key)?;
    put_part(&mut buf, namespace)?;
    Ok(buf)
}

/// The prefix of already encoded key and namespace parts.
pub(crate) fn raw_prefix(key_group: usize, key: &[u8], namespace: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(2 + 8 + key.len() + namespace.len());
    buf.extend_from_slice(&key_group_bytes(key_group));
    for part in [key, namespace] {
        buf.extend_from_slice(&u32::try_from(part.len()).expect("a key part is smaller than 4 GiB").to_be_bytes());
        buf.extend_from_slice(part);
    }
    buf
}

/// A row key split into its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RowKey<'a> {
    pub key_group: usize,
    pub key: &'a [u8],
    pub namespace: &'a [u8],
    /// `key group ‖ key ‖ namespace`.
    pub prefix: &'a [u8],
    /// What follows the prefix: a map state's encoded user key, else empty.
    pub user_key: &'a [u8],
}

/// Splits a row key; `None` if it is not one this backend wrote.
pub(crate) fn split(row: &[u8]) -> Option<RowKey<'_>> {
    let key_group = u16::from_be_bytes(row.get(..2)?.try_into().ok()?) as usize;
    let part = |at: usize| -> Option<(&[u8], usize)> {
        let len = u32::from_be_bytes(row.get(at..at + 4)?.try_into().ok()?) as usize;
        let end = (at + 4).checked_add(len)?;
        Some((row.get(at + 4..end)?, end))
    };
    let (key, at) = part(2)?;
    let (namespace, end) = part(at)?;
    Some(RowKey { key_group, key, namespace, prefix: &row[..end], user_key: &row[end..] })
}

/// The smallest byte string greater than every string starting with `prefix`
/// (`None` if there is none: all bytes 0xff).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_split_back_into_their_parts() {
        let mut row = prefix(300, "alice", &7u32).unwrap();
        let p = row.len();
        bincode::serialize_into(&mut row, &"user").unwrap();
        let parts = split(&row).unwrap();
        assert_eq!(parts.key_group, 300);
        assert_eq!(parts.key, bincode::serialize("alice").unwrap());
        assert_eq!(parts.namespace, bincode::serialize(&7u32).unwrap());
        assert_eq!(parts.prefix, &row[..p]);
        assert_eq!(parts.user_key, bincode::serialize("user").unwrap());
        assert_eq!(raw_prefix(300, parts.key, parts.namespace), parts.prefix);
        assert_eq!(&row[..2], &[1, 44], "the key group comes first, big-endian");
        assert_eq!(split(&row[..p - 1]), None);
    }

    #[test]
    fn a_prefix_is_not_the_prefix_of_another_keys_prefix() {
        // "a" and "ab" as keys: with lengths, neither prefix starts the other.
        let a = prefix(1, "a", &()).unwrap();
        let ab = prefix(1, "ab", &()).unwrap();
        assert!(!ab.starts_with(&a) && !a.starts_with(&ab));
    }

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
    }
}
