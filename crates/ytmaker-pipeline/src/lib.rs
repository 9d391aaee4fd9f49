//! ytmaker-pipeline (being written)
