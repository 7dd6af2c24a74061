"""What each scene geometry means to the rules, for the editor's tooltips (Russian, English).

Kept in step with docs/rules.md: lines are tested against a vehicle's anchor, the bottom
centre of its box (where the wheels meet the road); zones against the share of the box's
bottom edge inside them (at least half). Lines and zones are drawn on the road surface.
"""

from __future__ import annotations

from typing import Any

TEST_POINT = {
    "point": "bottom_centre",
    "zone_test": "bottom_edge_share",
    "zone_share": 0.5,
    "ru": "Линии проверяются по одной точке машины: середине нижней стороны её рамки (где "
    "колёса касаются дороги). Зоны — по нижней стороне рамки: машина в зоне, если в ней не "
    "меньше половины этой стороны. Рисуйте линии и зоны по асфальту, а не на уровне крыш.",
    "en": "Lines are tested against one point of a vehicle: the middle of its box's bottom "
    "edge (where the wheels meet the road). Zones against that bottom edge: a vehicle is in "
    "a zone when at least half of the edge is inside. Draw lines and zones on the road "
    "surface, not at roof height.",
}

LINES: dict[str, dict[str, Any]] = {
    "stop_line": {
        "needs_approach": True,
        "ru": "Стоп-линия. Пересечение считается, когда нижняя точка машины переходит линию со "
        "стороны подъезда (approach) на другую. Укажите точку подъезда и светофор, который ей "
        "управляет; иначе считаются оба направления.",
        "en": "Stop line. A crossing counts when the vehicle's bottom point passes from the "
        "approach side to the other. Set the approach point and the signal that controls it; "
        "without an approach both directions count.",
    },
    "solid_line": {
        "needs_approach": False,
        "ru": "Сплошная разметка: пересечение нижней точкой машины — нарушение (в обе стороны).",
        "en": "Solid lane marking: the vehicle's bottom point crossing it is a violation "
        "(either way).",
    },
    "speed_start": {
        "needs_approach": False,
        "ru": "Начало участка замера скорости; время между start и end и калибровка дают скорость.",
        "en": "Start of the speed segment; time from start to end with the calibration gives "
        "the speed.",
    },
    "speed_end": {
        "needs_approach": False,
        "ru": "Конец участка замера скорости. Нужна калибровка (4+ пары точек изображение/земля).",
        "en": "End of the speed segment. Needs a calibration (4+ image/ground point pairs).",
    },
}

ZONES: dict[str, dict[str, Any]] = {
    "crosswalk": {
        "fields": ["polygon"],
        "ru": "Пешеходный переход: машина в зоне, пока в ней пешеход, — непропуск пешехода.",
        "en": "Crosswalk: a vehicle in the zone while a pedestrian is in it fails to yield.",
    },
    "no_stopping": {
        "fields": ["polygon", "max_dwell_s"],
        "ru": "Остановка запрещена: нижняя точка машины стоит в зоне дольше max_dwell_s.",
        "en": "No stopping: the vehicle's bottom point stands in the zone longer than max_dwell_s.",
    },
    "no_parking": {
        "fields": ["polygon", "max_dwell_s"],
        "ru": "Стоянка запрещена: как остановка, но с большим допустимым временем.",
        "en": "No parking: like no stopping, with a longer allowed dwell.",
    },
    "bus_lane": {
        "fields": ["polygon"],
        "ru": "Полоса для автобусов: легковая машина, движущаяся в ней, — нарушение.",
        "en": "Bus lane: a car travelling in it is a violation.",
    },
    "lane": {
        "fields": ["polygon", "direction", "speed_limit_kmh"],
        "ru": "Полоса движения с направлением (стрелка from→to): движение против — встречка; "
        "speed_limit_kmh — ограничение скорости.",
        "en": "Traffic lane with its direction (arrow from→to): moving against it is wrong-way; "
        "speed_limit_kmh is its limit.",
    },
    "junction_box": {
        "fields": ["polygon"],
        "ru": "Перекрёсток с разметкой «вафля»: остановка в зоне при заторе — выезд на "
        "перекрёсток.",
        "en": "Box junction: stopping in it in congestion is a box-junction violation.",
    },
    "carriageway": {
        "fields": ["polygon", "max_dwell_s", "speed_limit_kmh"],
        "ru": "Проезжая часть: где вообще ездят машины. Стоящая дольше max_dwell_s — происшествие "
        "(остановившаяся машина); вне зоны детекции не учитываются.",
        "en": "Carriageway: where vehicles drive at all. One standing longer than max_dwell_s "
        "is a stopped-vehicle incident; detections outside it are ignored.",
    },
    "parking": {
        "fields": ["polygon"],
        "ru": "Парковка: здесь стоять можно — ни «остановившейся машины», ни нарушения остановки.",
        "en": "Parking bay: standing is allowed here: never a stopped vehicle or no-stopping.",
    },
    "bus_stop": {
        "fields": ["polygon"],
        "ru": "Остановка общественного транспорта: стоять можно, как на парковке.",
        "en": "Bus stop: standing is allowed, as in a parking bay.",
    },
    "intersection": {
        "fields": ["polygon", "max_dwell_s"],
        "ru": "Перекрёсток: остановившиеся машины внутри него; здесь стоп-линия (C13) "
        "перестаёт считаться.",
        "en": "Intersection: stopped vehicles inside it; where stop_line (C13) stops counting.",
    },
    "motorway": {
        "fields": ["polygon"],
        "ru": "Автомагистраль: велосипедист (или его велосипед) и пешеход здесь — происшествие.",
        "en": "Motorway: a cyclist (or their bicycle) here is an incident, as is a pedestrian.",
    },
    "no_cycling": {
        "fields": ["polygon"],
        "ru": "Езда на велосипеде запрещена: велосипедист здесь — происшествие.",
        "en": "No cycling: a cyclist here is an incident.",
    },
}

HINTS: dict[str, Any] = {
    "test_point": TEST_POINT,
    "lines": LINES,
    "zones": ZONES,
    "signals": {
        "ru": "Рамка светофора: плотно вокруг секций. Цвет читается из рамки; controls — "
        "стоп-линии, которыми он управляет.",
        "en": "Signal head box: tight around its lamps. Its colour is read from the box; "
        "controls lists the stop lines it governs.",
    },
    "calibration": {
        "ru": "Калибровка: 4+ точки на асфальте с известными координатами в метрах, не на одной "
        "прямой; нужна для скорости.",
        "en": "Calibration: 4+ road points with known ground coordinates in metres, not on one "
        "line; needed for speed.",
    },
}
