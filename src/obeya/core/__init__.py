"""The pure core: domain model and metrics. Knows nothing of the web, the CLI or the app store."""
