//! What the backend knows about each state's column family, and the typed
//! conversions it can only do once a state is used (when its types are known).
//!
//! Two column families per state at most:
//! - `state:<name>` — rows in the format of the state's registration: value-like
//!   states and lists one row per (key, namespace), maps one row per user key.
//!   Values are the canonical value bytes (`bincode(V)`, `bincode(Vec<T>)`, a map
//!   row `bincode(UV)`), each followed by its `i64` TTL timestamp when the state
//!   has a TTL — so the stamp is always the last 8 bytes of a value-like or map row.
//! - `restored:<name>` — canonical snapshot entries restored before the state was
//!   used (the backend cannot split a map's entries into rows, nor stamp list
//!   elements, without the types). The first use converts them into `state:<name>`
//!   and drops this column family; snapshots write them back unchanged meanwhile.

use crate::descriptor::StateKind;
use crate::error::{EntryPart, Result, StateError};
use crate::heap::table::TableMeta;
use crate::ttl::TtlPolicy;
use brook_types::Data;
use std::any::{Any, TypeId};
use std::marker::PhantomData;
use std::sync::Arc;

/// The column family of a state's rows.
pub(crate) fn main_cf(name: &str) -> String {
    format!("state:{name}")
}

/// The column family of a state's restored canonical entries.
pub(crate) fn restored_cf(name: &str) -> String {
    format!("restored:{name}")
}

/// What a column family holds (kept in the incremental snapshot's metadata too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CfInfo {
    pub kind: StateKind,
    /// Whether values carry TTL timestamps.
    pub stamped: bool,
    pub type_name: String,
    /// When it was restored: unstamped values get this stamp when converted into a
    /// state with a TTL.
    pub restored_at: i64,
    /// The TTL the column family's compaction filter drops expired values with
    /// (value-like and map states whose TTL asks for it).
    pub compaction_ttl_ms: Option<i64>,
}

/// A state that has been used: its column family and typed conversions.
pub(crate) struct Column {
    pub meta: TableMeta,
    pub cf: String,
    /// `(handle type, namespace type)`: what every access checks.
    pub table_type: TypeId,
    pub namespace_type: &'static str,
    pub function: Option<Arc<dyn Any + Send + Sync>>,
    pub codec: Box<dyn ColumnCodec>,
}

/// Conversions of stored bytes that need the state's types.
pub(crate) trait ColumnCodec: Send {
    /// The rows (suffix after the prefix, value) of one canonical entry's value
    /// (`stamped` says whether it carries timestamps; `now` stamps it if not),
    /// in the format of `meta`'s registration. Decodes the value, so a changed
    /// type is reported here, naming `written_type`.
    fn to_rows(
        &self,
        meta: &TableMeta,
        value: &[u8],
        stamped: bool,
        written_type: &str,
        now: i64,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;

    /// A stored value (a map's row value) re-encoded from `stamped` to `meta`'s format.
    fn restamp(&self, meta: &TableMeta, value: &[u8], stamped: bool, now: i64) -> Result<Vec<u8>>;

    /// The value a full snapshot with cleanup writes: `None` if all of it expired.
    /// Value-like rows and map rows end with their stamp; lists override this.
    fn live_for_snapshot(&self, _meta: &TableMeta, value: &[u8], ttl: TtlPolicy, now: i64) -> Result<Option<Vec<u8>>> {
        Ok((!ttl.expired(trailing_stamp(value), now)).then(|| value.to_vec()))
    }
}

/// The TTL timestamp a value-like or map row ends with.
pub(crate) fn trailing_stamp(value: &[u8]) -> i64 {
    value.len().checked_sub(8).map_or(i64::MIN, |at| i64::from_le_bytes(value[at..].try_into().expect("8 bytes")))
}

fn encode<T: serde::Serialize + ?Sized>(meta: &TableMeta, value: &T) -> Result<Vec<u8>> {
    bincode::serialize(value).map_err(|source| StateError::Encode {
        state: meta.name.to_string(),
        part: EntryPart::Value,
        source,
    })
}

/// Encodes `value` with its stamp if `meta` has a TTL.
fn encode_stamped<T: serde::Serialize>(meta: &TableMeta, value: &T, stamp: i64) -> Result<Vec<u8>> {
    if meta.ttl.is_some() { encode(meta, &(value, stamp)) } else { encode(meta, value) }
}

/// Value, reducing and aggregating state: one stored value.
pub(crate) struct ValueCodec<V>(PhantomData<fn() -> V>);

impl<V: Data> ValueCodec<V> {
    pub fn boxed() -> Box<dyn ColumnCodec> {
        Box::new(Self(PhantomData))
    }
}

impl<V: Data> ColumnCodec for ValueCodec<V> {
    fn to_rows(
        &self,
        meta: &TableMeta,
        value: &[u8],
        stamped: bool,
        written_type: &str,
        now: i64,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let (v, stamp) = meta.decode_stamped::<V>(value, stamped, written_type, now)?;
        Ok(vec![(Vec::new(), encode_stamped(meta, &v, stamp)?)])
    }

    fn restamp(&self, meta: &TableMeta, value: &[u8], stamped: bool, now: i64) -> Result<Vec<u8>> {
        if stamped == meta.ttl.is_some() {
            return Ok(value.to_vec());
        }
        let (v, stamp) = meta.decode_stamped::<V>(value, stamped, meta.type_name, now)?;
        encode_stamped(meta, &v, stamp)
    }
}

/// List state: `Vec<T>` (or `Vec<(T, i64)>`) per (key, namespace).
pub(crate) struct ListCodec<T>(PhantomData<fn() -> T>);

impl<T: Data> ListCodec<T> {
    pub fn boxed() -> Box<dyn ColumnCodec> {
        Box::new(Self(PhantomData))
    }
}

impl<T: Data> ListCodec<T> {
    fn convert(&self, meta: &TableMeta, value: &[u8], stamped: bool, written_type: &str, now: i64) -> Result<Vec<u8>> {
        let items: Vec<(T, i64)> = if stamped {
            meta.decode(EntryPart::Value, value, written_type)?
        } else {
            let items: Vec<T> = meta.decode(EntryPart::Value, value, written_type)?;
            items.into_iter().map(|t| (t, now)).collect()
        };
        if meta.ttl.is_some() {
            encode(meta, &items)
        } else {
            encode(meta, &items.into_iter().map(|(t, _)| t).collect::<Vec<_>>())
        }
    }
}

impl<T: Data> ColumnCodec for ListCodec<T> {
    fn to_rows(
        &self,
        meta: &TableMeta,
        value: &[u8],
        stamped: bool,
        written_type: &str,
        now: i64,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(vec![(Vec::new(), self.convert(meta, value, stamped, written_type, now)?)])
    }

    fn restamp(&self, meta: &TableMeta, value: &[u8], stamped: bool, now: i64) -> Result<Vec<u8>> {
        if stamped == meta.ttl.is_some() {
            return Ok(value.to_vec());
        }
        self.convert(meta, value, stamped, meta.type_name, now)
    }

    fn live_for_snapshot(&self, meta: &TableMeta, value: &[u8], ttl: TtlPolicy, now: i64) -> Result<Option<Vec<u8>>> {
        let items: Vec<(T, i64)> = meta.decode(EntryPart::Value, value, meta.type_name)?;
        if items.iter().all(|(_, s)| !ttl.expired(*s, now)) {
            return Ok(Some(value.to_vec()));
        }
        let live: Vec<&(T, i64)> = items.iter().filter(|(_, s)| !ttl.expired(*s, now)).collect();
        if live.is_empty() { Ok(None) } else { encode(meta, &live).map(Some) }
    }
}

/// Map state: a row per user key, `bincode(UV)` (or `(UV, i64)`).
pub(crate) struct MapCodec<UK, UV>(PhantomData<fn() -> (UK, UV)>);

impl<UK: Data, UV: Data> MapCodec<UK, UV> {
    pub fn boxed() -> Box<dyn ColumnCodec> {
        Box::new(Self(PhantomData))
    }
}

impl<UK: Data, UV: Data> ColumnCodec for MapCodec<UK, UV> {
    fn to_rows(
        &self,
        meta: &TableMeta,
        value: &[u8],
        stamped: bool,
        written_type: &str,
        now: i64,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let entries: Vec<(UK, UV, i64)> = if stamped {
            meta.decode(EntryPart::Value, value, written_type)?
        } else {
            let pairs: Vec<(UK, UV)> = meta.decode(EntryPart::Value, value, written_type)?;
            pairs.into_iter().map(|(k, v)| (k, v, now)).collect()
        };
        entries.into_iter().map(|(k, v, stamp)| Ok((encode(meta, &k)?, encode_stamped(meta, &v, stamp)?))).collect()
    }

    fn restamp(&self, meta: &TableMeta, value: &[u8], stamped: bool, now: i64) -> Result<Vec<u8>> {
        if stamped == meta.ttl.is_some() {
            return Ok(value.to_vec());
        }
        let (v, stamp) = meta.decode_stamped::<UV>(value, stamped, meta.type_name, now)?;
        encode_stamped(meta, &v, stamp)
    }
}
