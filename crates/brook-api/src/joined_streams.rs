//! Window joins and co-groups (Flink's `join` / `coGroup` …
//! `where(..).equalTo(..).window(..).apply(..)`).
//!
//! Built the way Flink builds them: both inputs are mapped into a tagged union,
//! unioned, keyed by their respective key selectors and windowed; when a window
//! fires, its elements are split back into the two sides. A co-group function sees
//! both sides of a key's window (either may be empty); a join function sees each
//! pair of the cross product (windows with one empty side produce nothing). Results
//! carry the window's max timestamp.

use crate::data_stream::DataStream;
use brook_runtime::functions::Collector;
use brook_runtime::window::{ProcessWindowContext, ProcessWindowFunction, Window, WindowAssigner, WindowElements};
use brook_types::Data;
use brook_types::key_group::KeyHash;
use serde::{Deserialize, Serialize};
use std::hash::Hash;
use std::marker::PhantomData;

/// One record of either input.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum TaggedUnion<A, B> {
    Left(A),
    Right(B),
}

/// `first.join(second)`: pick the keys with `where_` and `equal_to`.
pub struct JoinedStreams<A, B> {
    first: DataStream<A>,
    second: DataStream<B>,
}

/// `first.co_group(second)`: pick the keys with `where_` and `equal_to`.
pub struct CoGroupedStreams<A, B> {
    first: DataStream<A>,
    second: DataStream<B>,
}

impl<A: Data> DataStream<A> {
    /// Joins with `other` within windows: every pair of records with equal keys in
    /// the same window.
    pub fn join<B: Data>(self, other: DataStream<B>) -> JoinedStreams<A, B> {
        JoinedStreams { first: self, second: other }
    }

    /// Groups this stream and `other` by key within windows.
    pub fn co_group<B: Data>(self, other: DataStream<B>) -> CoGroupedStreams<A, B> {
        CoGroupedStreams { first: self, second: other }
    }
}

macro_rules! key_steps {
    ($streams:ident, $where_:ident, $equal:ident) => {
        impl<A: Data, B: Data> $streams<A, B> {
            /// The key of the first input.
            pub fn where_<K, K1>(self, key1: K1) -> $where_<A, B, K, K1>
            where
                K: Data + Hash + Eq + KeyHash,
                K1: Fn(&A) -> K + Clone + Send + Sync + 'static,
            {
                $where_ { first: self.first, second: self.second, key1, _key: PhantomData }
            }
        }

        /// The first input's key is chosen; choose the second's with `equal_to`.
        pub struct $where_<A, B, K, K1> {
            first: DataStream<A>,
            second: DataStream<B>,
            key1: K1,
            _key: PhantomData<fn() -> K>,
        }

        impl<A, B, K, K1> $where_<A, B, K, K1>
        where
            A: Data,
            B: Data,
            K: Data + Hash + Eq + KeyHash,
            K1: Fn(&A) -> K + Clone + Send + Sync + 'static,
        {
            /// The key of the second input; records join when the keys are equal.
            pub fn equal_to<K2>(self, key2: K2) -> $equal<A, B, K, K1, K2>
            where
                K2: Fn(&B) -> K + Clone + Send + Sync + 'static,
            {
                $equal { first: self.first, second: self.second, key1: self.key1, key2, _key: PhantomData }
            }
        }

        /// Both keys are chosen; choose the windows with `window`.
        pub struct $equal<A, B, K, K1, K2> {
            first: DataStream<A>,
            second: DataStream<B>,
            key1: K1,
            key2: K2,
            _key: PhantomData<fn() -> K>,
        }

        impl<A, B, K, K1, K2> $equal<A, B, K, K1, K2>
        where
            A: Data,
            B: Data,
            K: Data + Hash + Eq + KeyHash,
            K1: Fn(&A) -> K + Clone + Send + Sync + 'static,
            K2: Fn(&B) -> K + Clone + Send + Sync + 'static,
        {
            /// Both inputs as one tagged stream, keyed by their own key selectors.
            fn tagged(
                self,
            ) -> crate::KeyedStream<
                TaggedUnion<A, B>,
                crate::OwnedKey<impl Fn(&TaggedUnion<A, B>) -> K + Clone + Send + Sync + 'static, K>,
            > {
                let (key1, key2) = (self.key1, self.key2);
                let left = self.first.map(TaggedUnion::<A, B>::Left).name("Map (join left)");
                let right = self.second.map(TaggedUnion::<A, B>::Right).name("Map (join right)");
                left.union([right]).key_by(move |e: &TaggedUnion<A, B>| match e {
                    TaggedUnion::Left(a) => key1(a),
                    TaggedUnion::Right(b) => key2(b),
                })
            }
        }
    };
}

key_steps!(JoinedStreams, JoinWhere, JoinEqualTo);
key_steps!(CoGroupedStreams, CoGroupWhere, CoGroupEqualTo);

impl<A, B, K, K1, K2> JoinEqualTo<A, B, K, K1, K2>
where
    A: Data,
    B: Data,
    K: Data + Hash + Eq + KeyHash,
    K1: Fn(&A) -> K + Clone + Send + Sync + 'static,
    K2: Fn(&B) -> K + Clone + Send + Sync + 'static,
{
    /// Joins within the windows `assigner` makes: `apply(f)` calls `f(a, b)` for
    /// every pair of a window.
    pub fn window<W: WindowAssigner<TaggedUnion<A, B>>>(self, assigner: W) -> WindowJoin<A, B, K, K1, K2, W> {
        WindowJoin { streams: self, assigner }
    }
}

impl<A, B, K, K1, K2> CoGroupEqualTo<A, B, K, K1, K2>
where
    A: Data,
    B: Data,
    K: Data + Hash + Eq + KeyHash,
    K1: Fn(&A) -> K + Clone + Send + Sync + 'static,
    K2: Fn(&B) -> K + Clone + Send + Sync + 'static,
{
    /// Co-groups within the windows `assigner` makes.
    pub fn window<W: WindowAssigner<TaggedUnion<A, B>>>(self, assigner: W) -> WindowCoGroup<A, B, K, K1, K2, W> {
        WindowCoGroup { streams: self, assigner }
    }
}

/// A window join ready for its join function.
pub struct WindowJoin<A, B, K, K1, K2, W> {
    streams: JoinEqualTo<A, B, K, K1, K2>,
    assigner: W,
}

/// A window co-group ready for its function.
pub struct WindowCoGroup<A, B, K, K1, K2, W> {
    streams: CoGroupEqualTo<A, B, K, K1, K2>,
    assigner: W,
}

/// Calls a co-group function with the two sides of a fired window.
#[derive(Clone)]
struct CoGroupWindow<F, A, B> {
    f: F,
    _types: PhantomData<fn(A, B)>,
}

impl<K, Win, A, B, O, F> ProcessWindowFunction<K, Win, TaggedUnion<A, B>, O> for CoGroupWindow<F, A, B>
where
    Win: Window,
    A: Clone + Send + Sync + 'static,
    B: Clone + Send + Sync + 'static,
    F: FnMut(Vec<A>, Vec<B>, &mut Collector<O>) + Clone + Send + Sync + 'static,
{
    fn process(
        &mut self,
        _key: &K,
        _ctx: &mut ProcessWindowContext<'_, K, Win>,
        elements: WindowElements<'_, TaggedUnion<A, B>>,
        out: &mut Collector<O>,
    ) {
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for e in elements {
            match e {
                TaggedUnion::Left(a) => left.push(a.clone()),
                TaggedUnion::Right(b) => right.push(b.clone()),
            }
        }
        (self.f)(left, right, out);
    }
}

impl<A, B, K, K1, K2, W> WindowCoGroup<A, B, K, K1, K2, W>
where
    A: Data + Sync,
    B: Data + Sync,
    K: Data + Hash + Eq + KeyHash,
    K1: Fn(&A) -> K + Clone + Send + Sync + 'static,
    K2: Fn(&B) -> K + Clone + Send + Sync + 'static,
    W: WindowAssigner<TaggedUnion<A, B>>,
{
    /// `f(lefts, rights, out)` once per key and window (either side may be empty).
    pub fn apply<O, F>(self, f: F) -> DataStream<O>
    where
        O: Data,
        F: FnMut(Vec<A>, Vec<B>, &mut Collector<O>) + Clone + Send + Sync + 'static,
    {
        self.streams.tagged().window(self.assigner).process(CoGroupWindow { f, _types: PhantomData })
    }
}

impl<A, B, K, K1, K2, W> WindowJoin<A, B, K, K1, K2, W>
where
    A: Data + Sync,
    B: Data + Sync,
    K: Data + Hash + Eq + KeyHash,
    K1: Fn(&A) -> K + Clone + Send + Sync + 'static,
    K2: Fn(&B) -> K + Clone + Send + Sync + 'static,
    W: WindowAssigner<TaggedUnion<A, B>>,
{
    /// `f(a, b)` for every pair with equal keys in the same window.
    pub fn apply<O, F>(self, f: F) -> DataStream<O>
    where
        O: Data,
        F: FnMut(A, B) -> O + Clone + Send + Sync + 'static,
    {
        let mut f = f;
        let cross = move |left: Vec<A>, right: Vec<B>, out: &mut Collector<O>| {
            for a in &left {
                for b in &right {
                    out.collect(f(a.clone(), b.clone()));
                }
            }
        };
        self.streams.tagged().window(self.assigner).process(CoGroupWindow { f: cross, _types: PhantomData })
    }
}
