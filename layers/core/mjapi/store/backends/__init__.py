"""Store backends behind :class:`mjapi.store.table.Table` and :mod:`mjapi.images`.

AWS: DynamoDB (``table.py`` itself) and S3 behind CloudFront. One machine (``MJAPI_STORE=sqlite``): SQLite in WAL mode
(``sqlite_table.py``, its change feed in ``sqlite_feed.py``) and a local directory of objects (``objects.py``) served by
the stack's CDN route. The SQLite table evaluates the same DynamoDB expressions the store modules write
(``expressions.py``), so nothing above the store knows which backend it talks to.
"""
