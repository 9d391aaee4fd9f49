//! TODO(helper): the stability client.
