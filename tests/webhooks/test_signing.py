"""The signature a receiver checks, and the verification snippet we publish for them."""

import hashlib
import hmac
import re
import time

from django.conf import settings

from webhooks.signing import SECRET_PREFIX, secret_new, signature_header, signature_verify

BODY = b'{"event":"ticket.created","ticket":{"number":"SP-0042"}}'


def _docs_snippet():
    text = (settings.BASE_DIR / "docs" / "webhooks.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    namespace: dict = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)
    return namespace["helpdesk_signature_ok"]


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    header = signature_header(secret="whsec_k", timestamp=1796515200, body=BODY)
    expected = hmac.new(b"whsec_k", b"1796515200." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1796515200,v1={expected}"


def test_docs_snippet_accepts_our_signature():
    ok = _docs_snippet()
    now = int(time.time())
    assert ok("whsec_k", signature_header(secret="whsec_k", timestamp=now, body=BODY), BODY)


def test_docs_snippet_refuses_a_changed_body_wrong_secret_or_old_timestamp():
    ok = _docs_snippet()
    now = int(time.time())
    header = signature_header(secret="whsec_k", timestamp=now, body=BODY)
    assert not ok("whsec_k", header, BODY + b" ")
    assert not ok("whsec_other", header, BODY)
    old = signature_header(secret="whsec_k", timestamp=now - 301, body=BODY)
    assert not ok("whsec_k", old, BODY)
    assert not ok("whsec_k", "garbage", BODY)


def test_verify_refuses_a_timestamp_moved_without_resigning():
    now = int(time.time())
    header = signature_header(secret="whsec_k", timestamp=now - 1000, body=BODY)
    replayed = header.replace(f"t={now - 1000}", f"t={now}")
    assert not signature_verify(secret="whsec_k", header=replayed, body=BODY)
    assert signature_verify(secret="whsec_k", header=header, body=BODY, now=now - 1000)


def test_secrets_are_random_and_recognisable():
    first, second = secret_new(), secret_new()
    assert first != second
    assert first.startswith(SECRET_PREFIX)
    assert len(first) > 40
