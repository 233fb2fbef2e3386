"""The outputs wing: everything a record passes on its way out of the station.

``vocabulary`` (the one list of stored names), ``points`` (records to points), ``lineprotocol`` (InfluxDB
line protocol), ``spool`` (the durable on-disk queue) and ``sinks`` (SQLite, InfluxDB 1.x and 2.x).
"""
