//! ytmaker-providers (being written)
