import pytest

from tenants.models import Region


@pytest.mark.django_db
def test_registry_has_38_provinces_and_514_regencies():
    assert Region.objects.filter(kind="province").count() == 38
    regencies = Region.objects.filter(kind="regency")
    assert regencies.count() == 514
    assert regencies.filter(is_city=True).count() == 98
    assert regencies.filter(is_city=False).count() == 416


@pytest.mark.django_db
def test_papua_split_of_2022_is_reflected():
    names = set(Region.objects.filter(kind="province", code__startswith="9").values_list("name", flat=True))
    assert {"Papua", "Papua Barat", "Papua Selatan", "Papua Tengah", "Papua Pegunungan",
            "Papua Barat Daya"} <= names
    assert Region.objects.get(name="Kabupaten Merauke").parent.name == "Papua Selatan"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "zone"),
    [("Kabupaten Dairi", "Asia/Jakarta"), ("Kabupaten Sidoarjo", "Asia/Jakarta"),
     ("Kota Kotamobagu", "Asia/Makassar"), ("Kota Denpasar", "Asia/Makassar"),
     ("Kota Ambon", "Asia/Jayapura"), ("Kabupaten Merauke", "Asia/Jayapura"),
     ("Kota Palangkaraya", "Asia/Jakarta"), ("Kota Balikpapan", "Asia/Makassar")],
)
def test_time_zone_follows_the_province(name, zone):
    assert Region.objects.get(name=name).timezone == zone


@pytest.mark.django_db
def test_slugs_are_unique_host_labels():
    assert Region.objects.get(name="Kabupaten Dairi").slug == "dairi"
    assert Region.objects.get(name="Kabupaten Sidoarjo").slug == "sidoarjo"
    assert Region.objects.get(name="Kota Probolinggo").slug == "kota-probolinggo"
    assert Region.objects.get(name="Kabupaten Probolinggo").slug == "kab-probolinggo"
    slugs = list(Region.objects.values_list("slug", flat=True))
    assert len(slugs) == len(set(slugs)) == 552
