//! `brook info`: print a job's execution plan.

use super::options::{JobOptions, jobs_help};
use brook_api::StreamExecutionEnvironment;
use clap::Args;

#[derive(Args, Debug)]
#[command(after_help = jobs_help())]
pub struct InfoArgs {
    #[command(flatten)]
    pub options: JobOptions,
}

pub fn info(args: InfoArgs) -> anyhow::Result<()> {
    let opts = args.options;
    let job = crate::jobs::find(opts.job("info")?)?;
    let env = StreamExecutionEnvironment::with_configuration(opts.configuration()?);
    (job.build)(&env, opts.args())?;
    println!("{}", env.get_execution_plan()?);
    Ok(())
}
