//! ytmaker-render (being written)
