"""The spend report: one self-contained HTML page of interactive Plotly charts over the marts.

`python -m serving.report [--start YYYY-MM-DD] [--end YYYY-MM-DD]` (`make report`) and the
Dagster asset `report` write `report.html` in `SERVING_DIR`. It flows one way:

    data.py      fixed SQL over the marts into small frames (one read-only session)
    shaping.py   pure functions: each frame into exactly what its chart shows
    figures.py   the Plotly figures
    page.py      sections and the HTML page, plotly.js embedded (works offline)
    render.py    read, build, write atomically (`serving/atomic.py`)
"""
