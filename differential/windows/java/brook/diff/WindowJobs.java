package brook.diff;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.time.Duration;

/**
 * Flink's side of the window differential check (differential/windows/); Brook's
 * side is examples/window-differential, the same job.
 *
 * <p>Reads CSV lines {@code key,timestamp_ms,value} with a FileSource; event time is
 * {@code timestamp_ms}, watermarks for 2 s of out-of-orderness. Three event-time
 * window pipelines on the stream keyed by {@code key}, each writing one line
 * {@code key,window_start,window_end,result} per window with a FileSink at
 * parallelism 1 into {@code OUT/<name>/}:
 *
 * <ul>
 *   <li>{@code tumbling-count}: tumbling 10 s windows, number of events;
 *   <li>{@code sliding-max}: sliding 30 s windows every 10 s, largest value;
 *   <li>{@code session-sum}: session windows with a 5 s gap, sum of the values.
 * </ul>
 *
 * <p>Records a window drops as late go to {@code OUT/late/} instead
 * ({@code pipeline,key,timestamp_ms,value}); the generated input has none.
 *
 * <p>Args: {@code --input FILE --output DIR}. STREAMING mode; parallelism from
 * {@code flink run -p N}. Checkpointing is on only so that the FileSink commits
 * its part files (the final checkpoint at end of input commits the last ones).
 */
public class WindowJobs {

    public static void main(String[] args) throws Exception {
        String input = null, output = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--input": input = args[i + 1]; break;
                case "--output": output = args[i + 1]; break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (input == null || output == null) {
            throw new IllegalArgumentException("usage: --input FILE --output DIR");
        }

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);
        env.enableCheckpointing(1000);

        FileSource<String> source =
                FileSource.forRecordStreamFormat(new TextLineInputFormat(), new Path(input)).build();
        DataStream<Tuple3<String, Long, Long>> events = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "File Source")
                .map(new Parse()).name("Parse CSV")
                .assignTimestampsAndWatermarks(
                        WatermarkStrategy.<Tuple3<String, Long, Long>>forBoundedOutOfOrderness(Duration.ofSeconds(2))
                                .withTimestampAssigner((e, previous) -> e.f1));
        KeyedStream<Tuple3<String, Long, Long>, String> keyed = events.keyBy(new ByKey());

        OutputTag<Tuple3<String, Long, Long>> lateTumbling = new OutputTag<Tuple3<String, Long, Long>>("late-tumbling") {};
        OutputTag<Tuple3<String, Long, Long>> lateSliding = new OutputTag<Tuple3<String, Long, Long>>("late-sliding") {};
        OutputTag<Tuple3<String, Long, Long>> lateSession = new OutputTag<Tuple3<String, Long, Long>>("late-session") {};

        SingleOutputStreamOperator<String> counts = keyed
                .window(TumblingEventTimeWindows.of(Duration.ofSeconds(10)))
                .sideOutputLateData(lateTumbling)
                .aggregate(new Count(), new WindowLine())
                .name("Tumbling count");
        SingleOutputStreamOperator<String> maxima = keyed
                .window(SlidingEventTimeWindows.of(Duration.ofSeconds(30), Duration.ofSeconds(10)))
                .sideOutputLateData(lateSliding)
                .aggregate(new Max(), new WindowLine())
                .name("Sliding max");
        SingleOutputStreamOperator<String> sums = keyed
                .window(EventTimeSessionWindows.withGap(Duration.ofSeconds(5)))
                .sideOutputLateData(lateSession)
                .aggregate(new Sum(), new WindowLine())
                .name("Session sum");

        DataStream<String> late = counts.getSideOutput(lateTumbling).map(new LateLine("tumbling"))
                .union(maxima.getSideOutput(lateSliding).map(new LateLine("sliding")),
                        sums.getSideOutput(lateSession).map(new LateLine("session")));

        writeLines(counts, output + "/tumbling-count", "tumbling-count");
        writeLines(maxima, output + "/sliding-max", "sliding-max");
        writeLines(sums, output + "/session-sum", "session-sum");
        writeLines(late, output + "/late", "late");

        env.execute("brook window differential");
    }

    /** One FileSink subtask writing {@code line\n} per record into part files under {@code dir}. */
    private static void writeLines(DataStream<String> lines, String dir, String name) {
        lines.sinkTo(FileSink.<String>forRowFormat(new Path(dir), new SimpleStringEncoder<>())
                        .withRollingPolicy(OnCheckpointRollingPolicy.build())
                        .build())
                .name("Sink: " + name)
                .setParallelism(1);
    }

    /** {@code key,timestamp_ms,value} -> (key, timestamp_ms, value); fails the job on a malformed line. */
    public static final class Parse implements MapFunction<String, Tuple3<String, Long, Long>> {
        @Override
        public Tuple3<String, Long, Long> map(String line) {
            String[] f = line.split(",", -1);
            if (f.length != 3) {
                throw new IllegalArgumentException("malformed input line \"" + line + "\": expected key,timestamp_ms,value");
            }
            return Tuple3.of(f[0], Long.parseLong(f[1]), Long.parseLong(f[2]));
        }
    }

    public static final class ByKey implements KeySelector<Tuple3<String, Long, Long>, String> {
        @Override
        public String getKey(Tuple3<String, Long, Long> e) {
            return e.f0;
        }
    }

    /** {@code key,window_start,window_end,result}, the line format both engines write. */
    public static final class WindowLine extends ProcessWindowFunction<Long, String, String, TimeWindow> {
        @Override
        public void process(String key, Context ctx, Iterable<Long> results, Collector<String> out) {
            TimeWindow w = ctx.window();
            for (Long r : results) {
                out.collect(key + "," + w.getStart() + "," + w.getEnd() + "," + r);
            }
        }
    }

    /** {@code pipeline,key,timestamp_ms,value} of a record a window dropped as late. */
    public static final class LateLine implements MapFunction<Tuple3<String, Long, Long>, String> {
        private final String pipeline;

        LateLine(String pipeline) {
            this.pipeline = pipeline;
        }

        @Override
        public String map(Tuple3<String, Long, Long> e) {
            return pipeline + "," + e.f0 + "," + e.f1 + "," + e.f2;
        }
    }

    /** Number of events in the window. */
    public static final class Count implements AggregateFunction<Tuple3<String, Long, Long>, Long, Long> {
        @Override public Long createAccumulator() { return 0L; }
        @Override public Long add(Tuple3<String, Long, Long> e, Long acc) { return acc + 1; }
        @Override public Long getResult(Long acc) { return acc; }
        @Override public Long merge(Long a, Long b) { return a + b; }
    }

    /** Largest value in the window (windows are never empty). */
    public static final class Max implements AggregateFunction<Tuple3<String, Long, Long>, Long, Long> {
        @Override public Long createAccumulator() { return Long.MIN_VALUE; }
        @Override public Long add(Tuple3<String, Long, Long> e, Long acc) { return Math.max(acc, e.f2); }
        @Override public Long getResult(Long acc) { return acc; }
        @Override public Long merge(Long a, Long b) { return Math.max(a, b); }
    }

    /** Sum of the values in the window; sessions merge their partial sums. */
    public static final class Sum implements AggregateFunction<Tuple3<String, Long, Long>, Long, Long> {
        @Override public Long createAccumulator() { return 0L; }
        @Override public Long add(Tuple3<String, Long, Long> e, Long acc) { return acc + e.f2; }
        @Override public Long getResult(Long acc) { return acc; }
        @Override public Long merge(Long a, Long b) { return a + b; }
    }
}
