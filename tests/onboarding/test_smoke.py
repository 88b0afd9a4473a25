import pytest


@pytest.mark.django_db
def test_pages_render(as_user):
    c = as_user("nasional")
    for url in ["/", "/pemda/", "/pemda/12.11/", "/pemda/71.74/", "/provinsi/35/", "/pemda/35.15/"]:
        r = c.get(url)
        assert r.status_code == 200, (url, r.content[:3000])
