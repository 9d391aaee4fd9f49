//! TODO(helper): the did client.
