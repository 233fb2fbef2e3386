"""The compliance wing: where a violation comes from.

``register`` (the licence register: canonical model, CSV/JSON reader, exempt bands, one importer module per
real register), ``designator`` (ITU emission designators), ``checker`` (pure: emissions in, judgements out)
with its interval index ``frequency_index``, ``records`` (``Assignment``, ``ExemptBand``, ``ComplianceClass``,
``ComplianceResult``), ``cases`` (the append-only case store: schema, records, store), ``evidence`` (captures
and snapshots for a case) and ``exports`` (CSV, XLSX, GeoJSON, PDF for inspectors).
"""
