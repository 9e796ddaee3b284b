"""The shared corpus of real messages: every one is ingested or quarantined, never an
exception, and where the corpus says what to expect (expected.jsonl) we match it.

Read in place from MAIL_CORPUS_DIR (default: ../shared/corpus/mail next to the repo);
never copied into the repository.
"""

import json
import os
from pathlib import Path

import pytest
from django.conf import settings

from tickets.intake.ingest import email_ingest
from tickets.intake.parse import parse_email
from tickets.models import InboundEmail, Message

CORPUS = Path(
    os.environ.get("MAIL_CORPUS_DIR", settings.BASE_DIR.parent / "shared" / "corpus" / "mail")
)
FILES = (
    sorted(
        str(p.relative_to(CORPUS))
        for p in CORPUS.rglob("*")
        if p.is_file() and p.name not in ("MANIFEST.md", "expected.jsonl")
    )
    if CORPUS.is_dir()
    else []
)
EXPECTED = (
    {
        row["file"]: row
        for row in map(json.loads, (CORPUS / "expected.jsonl").read_text().splitlines())
        if row
    }
    if (CORPUS / "expected.jsonl").is_file()
    else {}
)
# Where Zammad's expectation is Zammad's quirk rather than the message (see MANIFEST.md).
SUBJECT_DIFFERENCES = {
    # Zammad leaves the UTF-7 encoded-word undecoded; we decode it ("Übermittlungsstatus").
    "zammad/mail018.box",
    # Raw 8-bit GBK bytes in the Subject while the body declares iso-8859-1.
    "zammad/mail046.box",
    # Junk line before the headers and an unfolded header continuation break the block.
    "zammad/mail068.box",
    # The stored .yml and .box come from different commits (MANIFEST note).
    "zammad/mail089.box",
}
FROM_DIFFERENCES = {
    "zammad/mail068.box",  # see above
    # Zammad keeps a stray ">" in the address; the address itself is the same.
    "zammad/mail076.box",
}
# Zammad's own attachment names: the HTML body, unnamed parts, DSN parts.
ZAMMAD_SYNTHETIC = {"message.html", "file"}

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not FILES, reason=f"mail corpus not found at {CORPUS} (set MAIL_CORPUS_DIR)"
    ),
]


@pytest.mark.parametrize("name", FILES or ["(no corpus)"])
def test_every_corpus_message_is_ingested_or_quarantined(name, queue):
    raw = (CORPUS / name).read_bytes()
    result = email_ingest(raw, source=InboundEmail.Source.PIPE)
    inbound = InboundEmail.objects.get(pk=result.inbound_email_id)
    assert result.status in ("processed", "quarantined"), result
    assert inbound.raw.read() == raw
    if result.status == "processed":
        # The message reached a ticket (as the requester's or a system note).
        assert Message.objects.filter(inbound_email=inbound).exists()
    else:
        assert inbound.error


@pytest.mark.parametrize("name", sorted(EXPECTED) or ["(no expectations)"])
def test_corpus_message_matches_expected_fields(name):
    expected = EXPECTED[name]
    parsed = parse_email((CORPUS / name).read_bytes())
    if "subject" in expected and name not in SUBJECT_DIFFERENCES:
        assert parsed.subject == " ".join(expected["subject"].split())
    if "subject_prefix" in expected:
        assert parsed.subject.startswith(" ".join(expected["subject_prefix"].split()))
    if expected.get("from_email") and name not in FROM_DIFFERENCES:
        assert parsed.from_email == expected["from_email"].lower()
    if "attachments" in expected:
        ours = {a.filename: a for a in parsed.attachments}
        for attachment in expected["attachments"]:
            filename = attachment.get("filename")
            mime = attachment.get("mime_type", "")
            if filename in ZAMMAD_SYNTHETIC or mime.startswith("message/"):
                continue
            assert filename in ours, f"{filename} not in {sorted(ours)}"
            if "data" in attachment:
                assert ours[filename].data.decode("utf-8") == attachment["data"]
        forwarded = [a for a in expected["attachments"] if a.get("mime_type") == "message/rfc822"]
        assert len([a for a in parsed.attachments if a.filename.endswith(".eml")]) >= len(forwarded)
