//! `brook run`: build a built-in job and run it.

use super::options::{JobOptions, jobs_help};
use brook_api::StreamExecutionEnvironment;
use clap::Args;

#[derive(Args, Debug)]
#[command(after_help = jobs_help())]
pub struct RunArgs {
    #[command(flatten)]
    pub options: JobOptions,
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let opts = args.options;
    // Until cluster submission (-m) exists, jobs run on the embedded local cluster.
    let _ = opts.local;
    let job = brook::jobs::find(opts.job("run")?)?;
    let config = opts.configuration()?;
    let env = StreamExecutionEnvironment::with_configuration(config);
    let name = (job.build)(&env, opts.args())?;
    let client = env.execute_async(&name)?;
    eprintln!("Job has been submitted with JobID {}", client.job_id());
    let result = client.wait_for_result()?;
    eprintln!("Program execution finished");
    eprintln!("Job with JobID {} has finished.", result.job_id);
    eprintln!("Job Runtime: {} ms", result.net_runtime.as_millis());
    if !result.accumulators.is_empty() {
        eprintln!("Accumulator Results:");
        for (name, value) in &result.accumulators {
            eprintln!("- {name}: {value}");
        }
    }
    Ok(())
}
