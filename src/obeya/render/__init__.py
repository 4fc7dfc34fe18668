"""Charts of a flow report as Vega-Lite specs (see :mod:`obeya.render.charts`)."""
