use crate::window::{EndOfStreamTrigger, GlobalWindow, NeverTrigger, Trigger, WindowAssigner, WindowAssignerContext};
use brook_types::Timestamp;

/// One window per key holding all its elements (Flink's `GlobalWindows`). Its
/// default trigger never fires, so it needs a trigger of its own
/// (`count_window` uses a count trigger) — or
/// [`GlobalWindows::create_with_end_of_stream_trigger`], which fires once at
/// the end of input. Not in event time: elements are never late.
#[derive(Clone, Copy, Debug)]
pub struct GlobalWindows<Tr = NeverTrigger> {
    default_trigger: Tr,
}

impl GlobalWindows {
    pub fn create() -> GlobalWindows<NeverTrigger> {
        GlobalWindows { default_trigger: NeverTrigger }
    }

    pub fn create_with_end_of_stream_trigger() -> GlobalWindows<EndOfStreamTrigger> {
        GlobalWindows { default_trigger: EndOfStreamTrigger }
    }
}

impl<T, Tr> WindowAssigner<T> for GlobalWindows<Tr>
where
    Tr: Trigger<T, GlobalWindow>,
{
    type Window = GlobalWindow;
    type DefaultTrigger = Tr;

    #[inline]
    fn assign_windows(&self, _: &T, _: Timestamp, _: &WindowAssignerContext<'_>, windows: &mut Vec<GlobalWindow>) {
        windows.push(GlobalWindow);
    }

    fn default_trigger(&self) -> Tr {
        self.default_trigger.clone()
    }

    fn is_event_time(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        "GlobalWindows()".to_string()
    }
}
