//! ytmaker-telemetry (being written)
