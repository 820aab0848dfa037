"""SCP/RCP size as AWS Organizations counts it, and the attachment limits."""

from __future__ import annotations

import json

import pytest

from stockade.policy.errors import PolicySizeError
from stockade.policy.size import check_attachments, check_size, minified_length


def test_whitespace_outside_strings_is_not_counted() -> None:
    compact = '{"Sid":"a b","Action":"s3:*"}'
    spaced = '{\n  "Sid" : "a b",\n\t"Action": "s3:*"\n}\n'
    assert minified_length(spaced) == minified_length(compact) == len(compact)


def test_escaped_quotes_keep_string_whitespace() -> None:
    text = '{"k": "say \\" hi \\\\", "x" : 1}'
    assert minified_length(text) == len(json.dumps(json.loads(text), separators=(",", ":")))


def test_limits() -> None:
    check_size(5120, kind="SCP", label="scps[0][0]", limit=5120)
    with pytest.raises(PolicySizeError) as caught:
        check_size(5121, kind="SCP", label="scps[0][0]", limit=5120)
    assert caught.value.code == "STK-1152"
    assert caught.value.message.startswith("scps[0][0]: the SCP is 5,121 characters")
    check_attachments(5, kind="RCP", label="rcps[1]", limit=5)
    with pytest.raises(PolicySizeError):
        check_attachments(6, kind="RCP", label="rcps[1]", limit=5)
