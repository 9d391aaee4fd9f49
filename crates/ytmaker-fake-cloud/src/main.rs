//! `ytmaker-fake-cloud --port 8600 [--faults faults.json]`: runs the fake cloud until killed and
//! prints its base URL on the first line of stdout.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use ytmaker_fake_cloud::{FakeCloud, Fault};

#[derive(Parser)]
#[command(about = "Local stand-in for Gemini, Google TTS, Stability AI, D-ID and YouTube")]
struct Args {
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// 0 picks a free port.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// A JSON array of faults in force from the start (same format as `POST /_fake/faults`).
    #[arg(long)]
    faults: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let faults: Vec<Fault> = match &args.faults {
        None => Vec::new(),
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(f) => f,
            Err(e) => {
                eprintln!("cannot read faults file {}: {e}", path.display());
                return std::process::ExitCode::from(2);
            }
        },
    };
    match FakeCloud::start(SocketAddr::new(args.bind, args.port), faults).await {
        Ok(cloud) => {
            println!("{}", cloud.url());
            cloud.wait().await;
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot start the fake cloud: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
