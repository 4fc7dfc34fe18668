"""Server-rendered pages (Jinja2 templates, static CSS and the vendored chart scripts).

The pages read the same report document as the API, so both always show the same figures.
"""
