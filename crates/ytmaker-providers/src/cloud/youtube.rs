//! TODO(helper): the youtube client.
