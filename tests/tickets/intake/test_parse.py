"""The one parser: charsets, bodies, quoted history, attachments, dangerous bytes."""

import pytest

from tickets.intake.bodies import strip_quoted
from tickets.intake.decoding import decode_bytes
from tickets.intake.parse import parse_email


def raw_message(headers: str, body: bytes) -> bytes:
    return headers.replace("\n", "\r\n").encode("ascii") + b"\r\n\r\n" + body


@pytest.mark.parametrize(
    ("charset", "encoding"),
    [
        ("koi8-r", "koi8-r"),
        ("windows-1251", "cp1251"),
        ("utf-8", "utf-8"),
        ("iso-8859-5", "iso-8859-5"),
    ],
)
def test_body_in_a_cyrillic_charset_is_decoded(charset, encoding):
    raw = raw_message(
        f"From: a@example.com\nSubject: x\nContent-Type: text/plain; charset={charset}\n"
        "Content-Transfer-Encoding: 8bit",
        "Добрый день, не работает запись".encode(encoding),
    )
    assert parse_email(raw).text == "Добрый день, не работает запись"


def test_iso_2022_jp_body_and_subject_are_decoded():
    body = "ツールが動きません".encode("iso-2022-jp")
    raw = raw_message(
        "From: a@example.com\nSubject: =?ISO-2022-JP?B?GyRCJUQhPCVrGyhC?=\n"
        "Content-Type: text/plain; charset=iso-2022-jp",
        body,
    )
    parsed = parse_email(raw)
    assert parsed.subject == "ツール"
    assert parsed.text == "ツールが動きません"


def test_mislabelled_charset_falls_back_to_utf8():
    raw = raw_message(
        "From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=us-ascii",
        "Привет".encode(),
    )
    assert parse_email(raw).text == "Привет"


def test_unknown_charset_falls_back_to_cp1251():
    raw = raw_message(
        "From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=x-martian",
        "Привет".encode("cp1251"),
    )
    assert parse_email(raw).text == "Привет"


def test_decode_bytes_never_fails():
    assert decode_bytes(b"\x98\xff\xfe", "utf-8")


def test_raw_8bit_cyrillic_subject_is_decoded():
    raw = (
        b"From: a@example.com\r\nSubject: "
        + "Запись к врачу".encode("cp1251")
        + b"\r\nContent-Type: text/plain; charset=windows-1251\r\n\r\nx"
    )
    assert parse_email(raw).subject == "Запись к врачу"


def test_encoded_word_split_inside_a_multibyte_character_is_joined():
    # "Ж" is 0xD0 0x96 in UTF-8: each half in its own encoded-word.
    raw = raw_message("From: a@example.com\nSubject: =?utf-8?Q?=D0?= =?utf-8?Q?=96?=", b"x")
    assert parse_email(raw).subject == "Ж"


def test_nul_bytes_and_lone_surrogates_are_removed():
    raw = raw_message(
        "From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=utf-8",
        b"abc\x00def \xed\xa0\x80 end",
    )
    text = parse_email(raw).full_text
    assert "\x00" not in text
    text.encode("utf-8")  # no lone surrogates left


def test_html_only_message_is_sanitised_and_turned_into_text():
    raw = raw_message(
        "From: a@example.com\nSubject: x\nContent-Type: text/html; charset=utf-8",
        "<p>Здравствуйте!</p><script>alert(1)</script><p>Не <b>работает</b></p>".encode(),
    )
    parsed = parse_email(raw)
    assert "<script" not in parsed.html
    assert "<b>работает</b>" in parsed.html
    assert parsed.text == "Здравствуйте!\n\nНе работает"


def test_plain_part_is_preferred_over_html(make_email):
    parsed = parse_email(make_email(body="Простой текст", html="<p>HTML версия</p>"))
    assert parsed.text == "Простой текст"
    assert "HTML версия" in parsed.html


@pytest.mark.parametrize(
    "header",
    [
        "-----Original Message-----",
        "On Mon, 3 Feb 2025 at 10:00, Support <support@example.com> wrote:",
        "3 февраля 2025 г., в 10:00, Служба поддержки <support@example.com> пишет:",
        "-------- Исходное сообщение --------",
    ],
)
def test_quoted_history_is_cut_at_its_header(header):
    text = f"Спасибо, заработало.\n\n{header}\nСтарый текст\n> ещё старее"
    assert strip_quoted(text) == "Спасибо, заработало."


def test_outlook_from_sent_block_starts_the_quoted_history():
    text = "Новый ответ\n\nFrom: Support <s@example.com>\nSent: Monday\nTo: me\nSubject: x\n\nold"
    assert strip_quoted(text) == "Новый ответ"


def test_quoted_lines_and_signature_are_left_out_of_the_timeline_text():
    text = "> старое\nНовое\n-- \nИван Иванов\nтел. 123"
    assert strip_quoted(text) == "Новое"


def test_full_text_keeps_the_quoted_history(make_email):
    body = "Ответ\n\nOn Mon, 1 Jan 2024, Support <s@example.com> wrote:\n> вопрос"
    parsed = parse_email(make_email(body=body))
    assert parsed.text == "Ответ"
    assert "> вопрос" in parsed.full_text


def test_rfc2231_filename_is_decoded():
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nsee file\r\n"
        b"--B\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''%D0%B7%D0%B0%D1%8F%D0%B2%D0%BB"
        b"%D0%B5%D0%BD%D0%B8%D0%B5.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n"
        b"--B--\r\n"
    )
    (attachment,) = parse_email(raw).attachments
    assert attachment.filename == "заявление.pdf"
    assert attachment.data == b"%PDF"


def test_rfc2047_filename_is_decoded():
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nsee file\r\n"
        b'--B\r\nContent-Type: image/png; name="=?koi8-r?B?0sHT0MnTwc7JxQ==?=.png"\r\n'
        b"Content-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n"
        b"--B--\r\n"
    )
    (attachment,) = parse_email(raw).attachments
    assert attachment.filename == "расписание.png"


def test_inline_image_keeps_its_content_id():
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/related; boundary="B"\r\n\r\n'
        b'--B\r\nContent-Type: text/html\r\n\r\n<p>see <img src="cid:img1@x"></p>\r\n'
        b"--B\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n--B--\r\n"
    )
    (attachment,) = parse_email(raw).attachments
    assert attachment.inline
    assert attachment.content_id == "img1@x"
    assert attachment.filename.endswith(".png")


def test_forwarded_message_becomes_an_eml_attachment_and_text(make_email):
    inner = make_email(subject="Исходная жалоба", body="Текст жалобы", sender="c@example.com")
    raw = (
        b"From: a@example.com\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nPlease see below\r\n"
        b"--B\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--B--\r\n"
    )
    parsed = parse_email(raw)
    assert [a.filename for a in parsed.attachments] == ["Исходная жалоба.eml"]
    assert "Текст жалобы" in parsed.full_text


def test_oversize_attachment_becomes_a_note(make_email, settings):
    settings.EMAIL_MAX_ATTACHMENT_BYTES = 100
    parsed = parse_email(
        make_email(body="См. файл", attachments=[("big.pdf", b"x" * 1000, "application/pdf")])
    )
    assert parsed.attachments == []
    assert "big.pdf" in parsed.text
    assert parsed.text.startswith("См. файл")


def test_encoded_display_name_with_a_comma_keeps_the_whole_name():
    raw = raw_message(
        "From: =?utf-8?B?0JjQstCw0L3QvtCyLCDQmNCy0LDQvQ==?= <ivanov@example.com>\nSubject: x",
        b"hi",
    )
    parsed = parse_email(raw)
    assert parsed.from_email == "ivanov@example.com"
    assert parsed.from_name == "Иванов, Иван"
