"""The interface is Russian first: every string of our code has a Russian translation."""

from pathlib import Path

from helpdesk.message_audit import (
    Msg,
    catalogue_gaps,
    extract_messages,
    russian_catalogue,
)


def test_every_string_of_our_code_has_a_russian_translation():
    gaps = catalogue_gaps(extract_messages(), russian_catalogue())

    assert not gaps, "add these to a fragment in locale/ru/:\n" + "\n".join(map(str, gaps))


def test_russian_fragments_hold_no_fuzzy_or_empty_entry():
    bad = {msg.msgid: where for msg, (problem, where) in russian_catalogue().items() if problem}

    assert bad == {}


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_audit_names_missing_fuzzy_and_untranslated_strings_of_code_templates_and_scripts(
    tmp_path,
):
    write(
        tmp_path / "tickets" / "models.py",
        "from django.utils.translation import gettext_lazy as _, pgettext_lazy\n"
        'A = _("translated")\nB = _("fuzzy one")\nC = pgettext_lazy("month", "May")\n',
    )
    write(
        tmp_path / "tickets" / "templates" / "tickets" / "page.html",
        '{% load i18n %}\n  <p>{% translate "from a template" %}</p>\n'
        "{% blocktranslate trimmed %}\n  Hello {{ name }}\n{% endblocktranslate %}\n",
    )
    write(tmp_path / "static" / "app.js", 'var t = gettext; say(t("from a script"));\n')
    write(
        tmp_path / "locale" / "ru" / "core.po",
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "translated"\nmsgstr "переведено"\n\n'
        '#, fuzzy\nmsgid "fuzzy one"\nmsgstr "нечто"\n\n'
        'msgctxt "month"\nmsgid "May"\nmsgstr ""\n\n'
        'msgid "Hello %(name)s"\nmsgstr "Здравствуйте, %(name)s"\n',
    )

    gaps = catalogue_gaps(extract_messages(tmp_path), russian_catalogue(tmp_path), fallback=False)

    assert {(gap.problem, gap.msg) for gap in gaps} == {
        ("fuzzy", Msg("django", None, "fuzzy one")),
        ("untranslated", Msg("django", "month", "May")),
        ("missing", Msg("django", None, "from a template")),
        ("missing", Msg("djangojs", None, "from a script")),
    }
