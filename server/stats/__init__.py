"""统计分析: the dashboard's figures, counted from the ledgers for a reader, a unit and a period.

``viewpoint`` (whose figures), ``period`` (which days), ``counts`` and ``panels`` (the figures, per kind
of ``config/dashboard.json``), ``dashboard`` (all of them), ``links`` (where each number leads) and
``export`` (Excel). The page (server.web.dashboard_views) and the API (server.api.stats) only call these.
"""
