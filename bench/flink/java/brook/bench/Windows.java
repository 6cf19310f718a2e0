package brook.bench;

import java.time.Duration;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.ReduceFunction;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;

/**
 * Brook's window benchmarks d and e on Flink:
 *
 * fromSequence(0, N-1) -> map(i -> (i % K, ts = i / 10, v = (i * 7919) % 1000))
 * -> WatermarkStrategy.forMonotonousTimestamps() with ts as timestamp -> keyBy(f0)
 * -> --mode tumbling: TumblingEventTimeWindows.of(10 s) -> aggregate(count) -> DiscardingSink
 * -> --mode sliding:  SlidingEventTimeWindows.of(10 s, 2 s) -> reduce(max of v) -> DiscardingSink
 *
 * STREAMING mode, no checkpointing, default (heap/hashmap) state backend,
 * default auto-watermark interval (200 ms).
 *
 * Args: --mode tumbling|sliding --records N (10000000) --keys K (10000)
 * Parallelism comes from `flink run -p N`.
 */
public class Windows {

    public static void main(String[] args) throws Exception {
        long records = 10_000_000L, keys = 10_000L;
        String mode = "tumbling";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--records": records = Long.parseLong(args[i + 1]); break;
                case "--keys": keys = Long.parseLong(args[i + 1]); break;
                case "--mode": mode = args[i + 1]; break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        final long k = keys;

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);

        KeyedStream<Tuple3<Long, Long, Long>, Long> keyed = env.fromSequence(0, records - 1).name("sequence")
                .map(new MapFunction<Long, Tuple3<Long, Long, Long>>() {
                    @Override
                    public Tuple3<Long, Long, Long> map(Long i) {
                        return Tuple3.of(i % k, i / 10, (i * 7919) % 1000);
                    }
                }).name("to-key-ts-value")
                .assignTimestampsAndWatermarks(WatermarkStrategy
                        .<Tuple3<Long, Long, Long>>forMonotonousTimestamps()
                        .withTimestampAssigner((e, previous) -> e.f1))
                .name("timestamps")
                .keyBy(new KeySelector<Tuple3<Long, Long, Long>, Long>() {
                    @Override
                    public Long getKey(Tuple3<Long, Long, Long> e) {
                        return e.f0;
                    }
                });

        switch (mode) {
            case "tumbling":
                keyed.window(TumblingEventTimeWindows.of(Duration.ofSeconds(10)))
                        .aggregate(new Count()).name("tumbling-count")
                        .sinkTo(new DiscardingSink<>()).name("discard");
                break;
            case "sliding":
                keyed.window(SlidingEventTimeWindows.of(Duration.ofSeconds(10), Duration.ofSeconds(2)))
                        .reduce(new ReduceFunction<Tuple3<Long, Long, Long>>() {
                            @Override
                            public Tuple3<Long, Long, Long> reduce(Tuple3<Long, Long, Long> a, Tuple3<Long, Long, Long> b) {
                                return b.f2 > a.f2 ? b : a;
                            }
                        }).name("sliding-max")
                        .sinkTo(new DiscardingSink<>()).name("discard");
                break;
            default:
                throw new IllegalArgumentException("--mode must be tumbling or sliding, not " + mode);
        }
        env.execute("brook-bench Windows " + mode);
    }

    /** Counts a window's elements. */
    public static class Count implements AggregateFunction<Tuple3<Long, Long, Long>, Long, Long> {
        @Override public Long createAccumulator() { return 0L; }
        @Override public Long add(Tuple3<Long, Long, Long> value, Long acc) { return acc + 1; }
        @Override public Long getResult(Long acc) { return acc; }
        @Override public Long merge(Long a, Long b) { return a + b; }
    }
}
