"""Line protocol: exact encoding, escaping, dropped NaN/inf, round trip through our parser and through the
real influxd (tricky tags and strings come back identical)."""

from __future__ import annotations

import math
import urllib.request

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from station.outputs.lineprotocol import LineProtocolError, encode_point, encode_points, format_field, parse_line
from station.outputs.vocabulary import Point


def test_exact_encoding_sorted_tags_and_types():
    p = Point(
        "emission",
        {"station": "hn-01", "class": "unlicensed", "band": "vhf"},
        {"center_hz": 147250000.0, "nfft": 4096, "artifact": False, "track_id": "trk-1", "snr_db": 1e-7},
        1_700_000_000_000_000_001,
    )
    line, dropped = encode_point(p)
    assert dropped == 0
    assert line == (
        b'emission,band=vhf,class=unlicensed,station=hn-01 center_hz=147250000.0,nfft=4096i,artifact=false,'
        b'track_id="trk-1",snr_db=1e-07 1700000000000000001'
    )


def test_escaping_of_measurement_tags_keys_and_strings():
    p = Point("band spectrum,x", {"sta tion": "a,b=c d", "band": ""}, {"f=k,ey z": 'say "hi" \\ now'}, 5)
    line, _ = encode_point(p)
    assert line == b'band\\ spectrum\\,x,sta\\ tion=a\\,b\\=c\\ d f\\=k\\,ey\\ z="say \\"hi\\" \\\\ now" 5'
    # empty tag values are omitted (InfluxDB refuses them)
    assert b"band=" not in line


def test_newlines_never_split_a_line():
    p = Point("violation", {"station": "a\nb"}, {"reason": "line1\nline2"}, 1)
    line, _ = encode_point(p)
    assert line.count(b"\n") == 1  # only inside the quoted string, which InfluxDB accepts
    assert b"station=a\\ b" in line
    assert parse_line(line).fields["reason"] == "line1\nline2"


def test_nan_and_inf_fields_are_dropped_and_counted_and_empty_points_dropped():
    points = [
        Point("emission", {"station": "s"}, {"snr_db": math.nan, "power_dbfs": -50.0, "peak_dbfs": math.inf}, 1),
        Point("emission", {"station": "s"}, {"snr_db": -math.inf}, 2),
        Point("emission", {"station": "s"}, {"snr_db": np.float32(3.5), "nfft": np.int64(7), "artifact": np.bool_(True)}, 3),
    ]
    enc = encode_points(points)
    assert enc.dropped_fields == 3 and enc.dropped_points == 1
    assert enc.kept == [0, 2]
    assert enc.lines[0] == b"emission,station=s power_dbfs=-50.0 1"
    assert enc.lines[1] == b"emission,station=s snr_db=3.5,nfft=7i,artifact=true 3"


def test_format_field_types():
    assert format_field(True) == "true" and format_field(0) == "0i" and format_field(-2.5) == "-2.5"
    assert format_field(1e20) == "1e+20" and format_field(None) is None
    with pytest.raises(TypeError, match="list"):
        format_field([1])


def test_parse_errors_name_the_column():
    with pytest.raises(LineProtocolError, match="column 3: bad tag"):
        parse_line(b"m,a f=1 1")
    with pytest.raises(LineProtocolError, match=r"column 5: bad field value 'x'"):
        parse_line(b"m f=x 1")
    with pytest.raises(LineProtocolError, match="column 7: bad timestamp"):
        parse_line(b"m f=1 now")
    with pytest.raises(LineProtocolError, match="missing timestamp"):
        parse_line(b"m f=1")


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)
_tag = _text.filter(lambda s: not s.endswith("\\") and "\\" not in s)
_value = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.text(max_size=30).filter(lambda s: "\x00" not in s),
)


@settings(max_examples=300, deadline=None)
@given(
    measurement=_tag,
    tags=st.dictionaries(_tag, _tag, max_size=4),
    fields=st.dictionaries(_tag, _value, min_size=1, max_size=5),
    t=st.integers(0, 2**62),
)
def test_encode_then_parse_round_trips(measurement, tags, fields, t):
    p = Point(measurement, tags, fields, t)
    line, dropped = encode_point(p)
    assert dropped == 0
    q = parse_line(line)
    assert q.measurement == measurement and q.tags == tags and q.time_ns == t
    assert q.fields == fields
    assert all(type(q.fields[k]) is type(v) for k, v in fields.items())


@pytest.mark.influx
def test_tricky_strings_come_back_identical_from_influxd(influxdb, influx_db):
    values = ["a\nb", "tr\\", 'x\\"y', "ünï 𝄞", "\\n", ' lead "q"', "a=b,c d", "", "tab\there"]
    tags = ["a b", 'x\\"y', "ünï 𝄞", "a=b,c d", "\\n", "tab\there"]
    lines = []
    for i, v in enumerate(values):
        p = Point("violation", {"station": tags[i % len(tags)], "band": "b"}, {"reason": v, "snr_db": i + 0.1}, 1000 + i)
        lines.append(encode_point(p)[0])
    req = urllib.request.Request(
        f"{influxdb.url}/write?db={influx_db}&precision=ns", data=b"\n".join(lines), method="POST"
    )
    assert urllib.request.urlopen(req).status == 204
    rows = influxdb.query('SELECT * FROM "violation" ORDER BY time', db=influx_db)
    assert [r["reason"] for r in rows] == values
    assert [r["station"] for r in rows] == [tags[i % len(tags)] for i in range(len(values))]
    assert [r["time"] for r in rows] == [1000 + i for i in range(len(values))]
    # and our parser reads our lines the way influxd did
    assert [parse_line(line).tags["station"] for line in lines] == [r["station"] for r in rows]
