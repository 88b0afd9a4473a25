"""Default categories, OPD agencies and routing rules every Pemda starts with.

Plain data (no Django imports): the data migration 0002 writes it into the
template schema, and every new tenant is cloned from there with these rows.
"""

from __future__ import annotations

# code, Indonesian name, English name, priority (1 critical .. 4 low),
# minutes for the OPD to acknowledge, minutes to arrive on scene.
CATEGORIES: list[tuple[str, str, str, int, int, int]] = [
    ("medical", "Medis / ambulans", "Medical / ambulance", 1, 3, 15),
    ("fire", "Kebakaran", "Fire", 1, 3, 15),
    ("traffic_accident", "Kecelakaan lalu lintas", "Traffic accident", 1, 3, 15),
    ("natural_disaster", "Bencana alam", "Natural disaster", 1, 5, 30),
    ("crime", "Kriminal / keamanan", "Crime / security", 2, 5, 20),
    ("public_order", "Ketertiban umum", "Public order", 3, 10, 30),
    ("rescue", "Penyelamatan (rescue)", "Rescue", 1, 5, 20),
    ("violence_women_children", "Kekerasan terhadap perempuan dan anak",
     "Violence against women and children", 2, 10, 60),
    ("social", "Sosial (ODGJ, orang terlantar)", "Social (e.g. neglected persons)", 3, 15, 60),
    ("infrastructure", "Infrastruktur (PLN, PDAM, pohon tumbang)",
     "Infrastructure (power, water, fallen trees)", 3, 15, 60),
    ("other", "Lainnya", "Other", 4, 15, 60),
]

# code, name, kind
AGENCIES: list[tuple[str, str, str]] = [
    ("psc119", "Dinas Kesehatan / PSC 119", "health"),
    ("rsud", "RSUD", "hospital"),
    ("puskesmas", "Puskesmas", "clinic"),
    ("damkar", "Damkar (Pemadam Kebakaran)", "fire"),
    ("bpbd", "BPBD", "disaster"),
    ("polres", "Polres", "police"),
    ("satpolpp", "Satpol PP", "public_order"),
    ("dinsos", "Dinas Sosial", "social"),
    ("dishub", "Dinas Perhubungan", "transport"),
    ("dp3a", "DP3A / UPTD PPA", "women_children"),
    ("pln", "PLN", "power"),
    ("pdam", "PDAM", "water"),
    ("basarnas", "Basarnas", "rescue"),
]

# category code -> agency codes, most likely first
ROUTING: dict[str, list[str]] = {
    "medical": ["psc119", "rsud", "puskesmas"],
    "fire": ["damkar", "psc119", "polres"],
    "traffic_accident": ["psc119", "polres", "dishub"],
    "natural_disaster": ["bpbd", "basarnas", "psc119", "dinsos"],
    "crime": ["polres", "satpolpp"],
    "public_order": ["satpolpp", "polres"],
    "rescue": ["basarnas", "damkar", "bpbd"],
    "violence_women_children": ["dp3a", "polres", "psc119"],
    "social": ["dinsos", "satpolpp"],
    "infrastructure": ["pln", "pdam", "bpbd", "dishub"],
    "other": ["satpolpp"],
}
