package brook.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;

/**
 * Runs a Flink SQL script (statements separated by ';' at a line end) in STREAMING mode:
 * SET 'key' = 'value' lines configure the table environment, other statements but INSERTs
 * run at once (DDL), and all INSERTs run as one job. Prints the job id and "Job Runtime: N ms"
 * for bench/flink/lib.sh.
 *
 *   flink run -c brook.bench.NexmarkSql brook-flink-bench.jar --sql FILE
 */
public class NexmarkSql {
    public static void main(String[] args) throws Exception {
        String file = null;
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--sql")) {
                file = args[i + 1];
            }
        }
        if (file == null) {
            throw new IllegalArgumentException("usage: NexmarkSql --sql FILE");
        }
        String text = new String(Files.readAllBytes(Paths.get(file)), StandardCharsets.UTF_8);
        TableEnvironment tEnv = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        StatementSet inserts = tEnv.createStatementSet();
        Pattern set = Pattern.compile("(?is)^SET\\s+'([^']+)'\\s*=\\s*'([^']*)'$");
        int n = 0;
        for (String raw : text.split(";\\s*(\\r?\\n|$)")) {
            String stmt = raw.replaceAll("(?m)^\\s*--.*$", "").trim();
            if (stmt.isEmpty()) {
                continue;
            }
            Matcher m = set.matcher(stmt);
            if (m.matches()) {
                tEnv.getConfig().set(m.group(1), m.group(2));
            } else if (stmt.toUpperCase().startsWith("INSERT")) {
                inserts.addInsertSql(stmt);
                n++;
            } else {
                tEnv.executeSql(stmt);
            }
        }
        if (n == 0) {
            throw new IllegalArgumentException(file + " has no INSERT statement");
        }
        TableResult result = inserts.execute();
        JobClient client = result.getJobClient().orElseThrow(() -> new IllegalStateException("no job client"));
        System.out.println("Job has been submitted with JobID " + client.getJobID());
        JobExecutionResult done = client.getJobExecutionResult().get();
        System.out.println("Job Runtime: " + done.getNetRuntime() + " ms");
    }
}
