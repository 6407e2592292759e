"""What operators watch: Prometheus metrics, structured logs with a request id and the
tenant, traces (OpenTelemetry) and error reports (Sentry), each off unless configured.
See the README's "Operations" section."""
