//! ytmaker-store (being written)
