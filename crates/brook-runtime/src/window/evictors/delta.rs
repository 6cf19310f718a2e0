use crate::window::{Evictor, EvictorContext, Window};
use brook_types::StreamRecord;
use std::marker::PhantomData;

/// Removes every element whose distance to the last element is at least
/// `threshold` (Flink's `DeltaEvictor`; note `>=`, where `DeltaTrigger` fires on `>`).
pub struct DeltaEvictor<T, D> {
    delta: D,
    threshold: f64,
    do_evict_after: bool,
    _type: PhantomData<fn(&T)>,
}

impl<T, D: Clone> Clone for DeltaEvictor<T, D> {
    fn clone(&self) -> Self {
        Self {
            delta: self.delta.clone(),
            threshold: self.threshold,
            do_evict_after: self.do_evict_after,
            _type: PhantomData,
        }
    }
}

impl<T, D> std::fmt::Debug for DeltaEvictor<T, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeltaEvictor(threshold={}, after={})", self.threshold, self.do_evict_after)
    }
}

impl<T, D: Fn(&T, &T) -> f64> DeltaEvictor<T, D> {
    /// `delta(element, last)` measures the distance; evicts before the window function.
    pub fn of(threshold: f64, delta: D) -> Self {
        Self::of_after(threshold, delta, false)
    }

    /// Evicts after the window function if `do_evict_after`.
    pub fn of_after(threshold: f64, delta: D, do_evict_after: bool) -> Self {
        Self { delta, threshold, do_evict_after, _type: PhantomData }
    }

    fn evict(&self, elements: &mut Vec<StreamRecord<T>>) {
        // Every element, the last one included, against the last one as it was
        // before eviction, as Flink does.
        let Some(last) = elements.last() else { return };
        let evict: Vec<bool> = elements.iter().map(|e| (self.delta)(&e.value, &last.value) >= self.threshold).collect();
        let mut flags = evict.into_iter();
        elements.retain(|_| !flags.next().expect("one flag per element"));
    }
}

impl<T, W, D> Evictor<T, W> for DeltaEvictor<T, D>
where
    T: 'static,
    W: Window,
    D: Fn(&T, &T) -> f64 + Clone + Send + Sync + 'static,
{
    fn evict_before(&self, elements: &mut Vec<StreamRecord<T>>, _: &W, _: &EvictorContext) {
        if !self.do_evict_after {
            self.evict(elements);
        }
    }

    fn evict_after(&self, elements: &mut Vec<StreamRecord<T>>, _: &W, _: &EvictorContext) {
        if self.do_evict_after {
            self.evict(elements);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::GlobalWindow;

    #[test]
    fn evicts_elements_at_least_threshold_away_from_the_last() {
        let ctx = EvictorContext::new(0, 0);
        let mut e: Vec<_> = [1i64, 8, 5, 10].iter().map(|v| StreamRecord::with_timestamp(*v, 0)).collect();
        DeltaEvictor::of(5.0, |a: &i64, b: &i64| (b - a).abs() as f64).evict_before(&mut e, &GlobalWindow, &ctx);
        // distances to 10: 9 (out), 2, 5 (out: >= 5), 0
        assert_eq!(e.iter().map(|r| r.value).collect::<Vec<_>>(), vec![8, 10]);
    }
}
