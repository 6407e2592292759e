"""The HTTP API under ``/api/v1/``: authentication, errors and query parsing, then one
module per resource family. Views parse input, pass the acting principal to a service or
selector and render; the access policy decides below them."""
