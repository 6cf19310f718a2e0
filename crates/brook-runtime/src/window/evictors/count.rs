use crate::window::{Evictor, EvictorContext, Window};
use brook_types::StreamRecord;

/// Keeps at most the last `max_count` elements (Flink's `CountEvictor`):
/// removes the oldest ones. `count_window(size, slide)` uses it.
#[derive(Clone, Copy, Debug)]
pub struct CountEvictor {
    max_count: usize,
    do_evict_after: bool,
}

impl CountEvictor {
    /// Evicts before the window function.
    pub fn of(max_count: usize) -> Self {
        Self { max_count, do_evict_after: false }
    }

    /// Evicts after the window function if `do_evict_after`.
    pub fn of_after(max_count: usize, do_evict_after: bool) -> Self {
        Self { max_count, do_evict_after }
    }

    fn evict<T>(&self, elements: &mut Vec<StreamRecord<T>>) {
        if elements.len() > self.max_count {
            let excess = elements.len() - self.max_count;
            elements.drain(..excess);
        }
    }
}

impl<T, W: Window> Evictor<T, W> for CountEvictor {
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

    fn records(values: &[i64]) -> Vec<StreamRecord<i64>> {
        values.iter().map(|v| StreamRecord::with_timestamp(*v, *v)).collect()
    }

    #[test]
    fn keeps_the_last_n_before_or_after() {
        let ctx = EvictorContext::new(0, 0);
        let mut e = records(&[1, 2, 3, 4, 5]);
        CountEvictor::of(2).evict_before(&mut e, &GlobalWindow, &ctx);
        assert_eq!(e, records(&[4, 5]));
        let mut e = records(&[1, 2, 3]);
        CountEvictor::of(2).evict_after(&mut e, &GlobalWindow, &ctx);
        assert_eq!(e, records(&[1, 2, 3]), "not after unless asked");
        CountEvictor::of_after(2, true).evict_after(&mut e, &GlobalWindow, &ctx);
        assert_eq!(e, records(&[2, 3]));
    }
}
