//! TODO(helper): the google_tts client.
