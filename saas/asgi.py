import os

from django.core.asgi import get_asgi_application

from saas.observability.tracing import observability_configure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings.local")
observability_configure(service_name="atrium-web")
application = get_asgi_application()
