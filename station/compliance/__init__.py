"""The compliance wing: where a violation comes from.

``register`` (the licence register: canonical model, CSV/JSON reader, importers), ``designator`` (ITU
emission designators), ``checker`` (pure: emissions in, judgements out), ``records`` (``ComplianceClass``,
``ComplianceResult``), ``cases`` (the append-only case store), ``evidence`` (captures and snapshots for a
case) and ``exports`` (CSV, XLSX, GeoJSON, PDF for inspectors).
"""
