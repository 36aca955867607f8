"""Publishing services: the media library (`media`), posts and validation (`posts`), the pipeline
(`pipeline`) and the per-platform publishers (`instagram`, `facebook`)."""
