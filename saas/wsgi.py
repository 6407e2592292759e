import os

from django.core.wsgi import get_wsgi_application

from saas.observability.tracing import observability_configure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings.local")
# Before the application loads its middleware: the Django instrumentation adds its own.
observability_configure(service_name="atrium-web")
application = get_wsgi_application()
