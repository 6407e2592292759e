"""Server-rendered staff and admin screens (Django templates + htmx). Views stay thin:
they parse the request, call crm/metadata/tenants services and selectors, and render."""
