"""Gunicorn settings for Atrium's web container (`gunicorn --config deploy/gunicorn.conf.py`).

Every knob that differs between hosts comes from the environment; the defaults suit a
container that sits behind a TLS-terminating reverse proxy.
"""

import os


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _cpu_count() -> int:
    # Honour the container's CPU set where the platform exposes it.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


wsgi_app = "saas.wsgi:application"

# The container's only listener; publish or proxy it, never expose it to the internet raw.
bind = [f"0.0.0.0:{_env_int('PORT', 8000)}"]

workers = _env_int("WEB_CONCURRENCY", min(2 * _cpu_count() + 1, 8))
worker_class = "gthread"
threads = _env_int("GUNICORN_THREADS", 4)

timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# If the proxy reuses upstream connections, keep this above its idle timeout (e.g. 65 behind
# a load balancer that idles out after 60 s) so it never sends on a socket gunicorn closed.
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)

# Recycle workers now and then so slow leaks never accumulate; jitter staggers restarts.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 100)

# Heartbeat files on tmpfs: a disk-backed /tmp can stall workers into false timeouts.
worker_tmp_dir = "/dev/shm"  # noqa: S108

# Proxies whose X-Forwarded-* headers gunicorn believes. The container is meant to be
# reachable only through the proxy, whose address varies, hence "*" unless narrowed.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


# Prometheus multiprocess mode (PROMETHEUS_MULTIPROC_DIR, e.g. a tmpfs at /dev/shm/metrics):
# every worker writes its values to files there and /metrics adds them up. Files left by
# an earlier run would be counted again, so the folder is emptied at start; an exited
# worker's live gauges are dropped.
def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
