//! Options of the cluster processes (`brook jobmanager`, `brook taskmanager`).

use brook_types::config::Configuration;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct ProcessOptions {
    /// Set a configuration value, e.g. -D taskmanager.numberOfTaskSlots=4.
    #[arg(short = 'D', value_name = "key=value")]
    pub dynamic: Vec<String>,
    /// YAML configuration file (default: $BROOK_CONF_DIR/config.yaml if it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl ProcessOptions {
    /// The configuration: file, then -D.
    pub fn configuration(&self) -> anyhow::Result<Configuration> {
        let mut config = match &self.config {
            Some(path) => Configuration::load_yaml_file(path)?,
            None => match std::env::var_os("BROOK_CONF_DIR").map(|d| PathBuf::from(d).join("config.yaml")) {
                Some(path) if path.exists() => Configuration::load_yaml_file(&path)?,
                _ => Configuration::new(),
            },
        };
        for pair in &self.dynamic {
            config.set_dynamic(pair)?;
        }
        Ok(config)
    }
}

/// `host:port` of the JobManager's RPC endpoint from `jobmanager.rpc.address` and `.port`.
pub fn job_manager_rpc_address(config: &Configuration) -> String {
    use brook_types::config::options::{JOB_MANAGER_RPC_ADDRESS, JOB_MANAGER_RPC_PORT};
    format!("{}:{}", config.get_raw(&JOB_MANAGER_RPC_ADDRESS), config.get_raw(&JOB_MANAGER_RPC_PORT))
}
