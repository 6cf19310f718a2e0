package brook.bench;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.DefaultRollingPolicy;
import org.apache.flink.util.Collector;

import java.time.Duration;

/**
 * Stand-in for Flink's bundled streaming WordCount example
 * (org.apache.flink.streaming.examples.wordcount.WordCount), whose jar is not
 * shipped in the apache-flink wheel. Same pipeline shape and semantics:
 * FileSource(TextLineInputFormat) -> flatMap(lower-case, split on \W+, emit (word,1))
 * -> keyBy(word) -> sum(1) -> FileSink(row format, "(word,count)" lines).
 *
 * Args: --input PATH --output DIR [--execution-mode batch|streaming]
 * Parallelism comes from `flink run -p N`.
 */
public class WordCount {

    public static void main(String[] args) throws Exception {
        String input = null, output = null, mode = "batch";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--input": input = args[i + 1]; break;
                case "--output": output = args[i + 1]; break;
                case "--execution-mode": mode = args[i + 1]; break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (input == null || output == null) {
            throw new IllegalArgumentException("usage: --input PATH --output DIR [--execution-mode batch|streaming]");
        }

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setRuntimeMode("streaming".equalsIgnoreCase(mode)
                ? RuntimeExecutionMode.STREAMING : RuntimeExecutionMode.BATCH);

        FileSource<String> source =
                FileSource.forRecordStreamFormat(new TextLineInputFormat(), new Path(input)).build();
        DataStream<String> text = env.fromSource(source, WatermarkStrategy.noWatermarks(), "file-input");

        DataStream<Tuple2<String, Integer>> counts = text
                .flatMap(new Tokenizer()).name("tokenizer")
                .keyBy(new KeySelector<Tuple2<String, Integer>, String>() {
                    @Override
                    public String getKey(Tuple2<String, Integer> t) {
                        return t.f0;
                    }
                })
                .sum(1).name("counter");

        counts.sinkTo(FileSink.<Tuple2<String, Integer>>forRowFormat(
                                new Path(output), new SimpleStringEncoder<>())
                        .withRollingPolicy(DefaultRollingPolicy.builder()
                                .withMaxPartSize(MemorySize.ofMebiBytes(1))
                                .withRolloverInterval(Duration.ofSeconds(10))
                                .build())
                        .build())
                .name("file-sink");

        env.execute("brook-bench WordCount");
    }

    /** Lower-cases a line, splits it on runs of non-word characters, emits (token, 1). */
    public static final class Tokenizer implements FlatMapFunction<String, Tuple2<String, Integer>> {
        @Override
        public void flatMap(String line, Collector<Tuple2<String, Integer>> out) {
            for (String token : line.toLowerCase().split("\\W+")) {
                if (!token.isEmpty()) {
                    out.collect(new Tuple2<>(token, 1));
                }
            }
        }
    }
}
