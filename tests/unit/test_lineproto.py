"""The line checker the fuzz relies on refuses what InfluxDB would refuse or misread."""

from __future__ import annotations

import pytest

from tests.lineproto import LineError, parse_line


def test_checker_reads_tags_fields_of_every_type_and_the_time() -> None:
    line = r'telemetry,a=x\,y,b=c\ d f=1.5,i=-2i,t=true,s="q\"\\" 17'

    parsed = parse_line(line)

    assert parsed.tags == {"a": "x,y", "b": "c d"}
    assert parsed.fields == {"f": 1.5, "i": -2, "t": True, "s": 'q"\\'}
    assert parsed.ts == 17


@pytest.mark.parametrize(
    "line",
    [
        "telemetry f=1.0",  # no time
        "telemetry f=1.0 -1",  # before 1970
        "telemetry f=1.0 9223372036854775808",  # past int64
        "telemetry  1",  # no field
        "telemetry f= 1",  # empty value
        "telemetry f=nan 1",
        "telemetry f=inf 1",
        "telemetry f=1.0,f=2.0 1",  # a field twice
        "telemetry f=9223372036854775808i 1",
        'telemetry f="open 1',
        "telemetry,b=1,a=2 f=1.0 1",  # tags unsorted
        "telemetry,a= f=1.0 1",  # empty tag value
        "telemetry,a=x\\ f=1.0 1",  # a trailing backslash escapes the space
        "telemetry,a=x\\y f=1.0 1",
        "telemetry f=1.0 1\n",
        'telemetry s="a\rb" 1',
        "telemetry,a=\udc80 f=1.0 1",
    ],
)
def test_checker_refuses_malformed_lines(line: str) -> None:
    with pytest.raises(LineError):
        parse_line(line)
