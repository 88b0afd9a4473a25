"""A 404 from a locked lookup (incidents.services.common.lock_or_404) speaks the
person's language, like every other refusal, and names what was not found."""

from __future__ import annotations

import pytest
from django.utils import translation

from incidents.services import common

from .conftest import post_json

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("lang", "expected"), [
    ("id", "Catatan serah terima tidak ditemukan."),
    ("en", "No such handover note."),
])
def test_acknowledging_a_missing_note_answers_in_the_users_language(
        tenant_a, as_user, lang, expected):
    supervisor = as_user(tenant_a, "supervisor")
    supervisor.cookies["django_language"] = lang
    answer = post_json(supervisor, "/supervisor/handover/notes/987654321/ack/", {})
    assert answer.status_code == 404
    assert answer.json() == {"error": expected, "code": "not_found", "status": 404}


def test_every_kind_lock_or_404_is_asked_for_has_an_indonesian_sentence():
    import pathlib
    import re

    used = set()
    for path in pathlib.Path(common.__file__).parent.glob("*.py"):
        used |= set(re.findall(r'lock_or_404\([^;]*?,\s*"([^"]+)"\)', path.read_text()))
    assert used and used <= set(common._NO_SUCH), used - set(common._NO_SUCH)
    for what in used:
        with translation.override("en"):
            english = str(common._NO_SUCH[what])
        with translation.override("id"):
            indonesian = str(common._NO_SUCH[what])
        assert english.startswith("No such ") and indonesian != english, what
