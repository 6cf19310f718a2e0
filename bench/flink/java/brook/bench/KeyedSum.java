package brook.bench;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * Keyed rolling sum: fromSequence(0, N-1) -> map(i -> (i % K, 1L)) -> keyBy(f0)
 * -> sum(1) -> DiscardingSink. STREAMING mode, so the sum emits one updated
 * (key, running total) record for every input record. No checkpointing,
 * default (heap/hashmap) state backend.
 *
 * Args: --records N (10000000) --keys K (100000)
 * Parallelism comes from `flink run -p N`.
 */
public class KeyedSum {

    public static void main(String[] args) throws Exception {
        long records = 10_000_000L, keys = 100_000L;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--records": records = Long.parseLong(args[i + 1]); break;
                case "--keys": keys = Long.parseLong(args[i + 1]); break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        final long k = keys;

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);

        env.fromSequence(0, records - 1).name("sequence")
                .map(new MapFunction<Long, Tuple2<Long, Long>>() {
                    @Override
                    public Tuple2<Long, Long> map(Long i) {
                        return Tuple2.of(i % k, 1L);
                    }
                }).name("to-key-value")
                .keyBy(new KeySelector<Tuple2<Long, Long>, Long>() {
                    @Override
                    public Long getKey(Tuple2<Long, Long> t) {
                        return t.f0;
                    }
                })
                .sum(1).name("rolling-sum")
                .sinkTo(new DiscardingSink<>()).name("discard");

        env.execute("brook-bench KeyedSum");
    }
}
