"""The API's routers, one module per resource; ``app.create_api`` mounts them all."""
