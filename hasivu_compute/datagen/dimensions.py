"""Dimension tables of the school-meals star schema: schools, kitchens, students, menu items.

Every table is a pure function of its arguments and the seed. Students are numbered in
contiguous ranges per school (school 1 owns ids ``1..enrolment_1``, school 2 the next range, ...),
so a student belongs to exactly one school and a fact generator can draw students without
materialising the students table; per-student attributes that facts need (free-meal
eligibility) are stateless hashes of the student id.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute._core.errors import ConfigError
from hasivu_compute.datagen import _catalog as cat
from hasivu_compute.datagen._rand import (
    block_rng,
    check_seed,
    cumulative,
    labels,
    pick,
    unit_hash,
)

DEFAULT_N_SCHOOLS = 1000
SCHOOLS_PER_KITCHEN = 20
STREAM_SCHOOLS, STREAM_MENU = 1, 4
_SALT_GRADE, _SALT_ELIGIBLE, _SALT_ENROL, _SALT_FIRST, _SALT_LAST = 11, 12, 13, 14, 15
_SALT_DOMAIN, _SALT_PHONE, _SALT_DOB = 16, 17, 18
_GOVERNMENT_PREFIXES = (0, 3)  # "Government", "Kendriya Vidyalaya": more free-meal students

SCHOOLS_SCHEMA = pa.schema(
    [
        pa.field("school_id", pa.int32(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("district", pa.string(), nullable=False),
        pa.field("state", pa.string(), nullable=False),
        pa.field("enrolment", pa.int32(), nullable=False),
        pa.field("opened", pa.date32(), nullable=False),
        pa.field("kitchen_id", pa.int32(), nullable=False),
        pa.field("free_meal_share", pa.float64(), nullable=False),
    ]
)
KITCHENS_SCHEMA = pa.schema(
    [
        pa.field("kitchen_id", pa.int32(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("district", pa.string(), nullable=False),
        pa.field("state", pa.string(), nullable=False),
        pa.field("schools_served", pa.int32(), nullable=False),
        pa.field("capacity_meals", pa.int32(), nullable=False),
    ]
)
STUDENTS_SCHEMA = pa.schema(
    [
        pa.field("student_id", pa.int64(), nullable=False),
        pa.field("school_id", pa.int32(), nullable=False),
        pa.field("grade", pa.int8(), nullable=False),
        pa.field("is_free_meal_eligible", pa.bool_(), nullable=False),
        pa.field("enrolled_on", pa.date32(), nullable=False),
        pa.field("first_name", pa.string(), nullable=False),
        pa.field("last_name", pa.string(), nullable=False),
        pa.field("date_of_birth", pa.date32(), nullable=False),
        pa.field("guardian_email", pa.string(), nullable=False),
        pa.field("guardian_phone", pa.string(), nullable=False),
    ]
)
MENU_ITEMS_SCHEMA = pa.schema(
    [
        pa.field("item_id", pa.int32(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        pa.field("price", pa.float64(), nullable=False),
        pa.field("is_vegetarian", pa.bool_(), nullable=False),
    ]
)


@dataclass(frozen=True, slots=True)
class SchoolArrays:
    """The numpy view of the schools that fact generators sample from (index = school_id - 1)."""

    enrolment: np.ndarray  # int64
    first_student: np.ndarray  # int64, first student id of each school
    kitchen_id: np.ndarray  # int32
    free_share: np.ndarray  # float64, share of free-meal-eligible students
    district: np.ndarray  # int64 code into catalog.DISTRICTS
    prefix: np.ndarray  # int64 code into catalog.SCHOOL_PREFIXES
    kind: np.ndarray  # int64 code into catalog.SCHOOL_KINDS
    opened: np.ndarray  # int32 days since epoch

    @property
    def n_students(self) -> int:
        """Students across all schools."""
        return int(self.enrolment.sum())


def _check_n(name: str, n: int) -> int:
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def _kitchen_of(district: np.ndarray) -> np.ndarray:
    """Kitchen ids: each district's schools share central kitchens of up to 20 schools."""
    n = len(district)
    order = np.argsort(district, kind="stable")
    sorted_d = district[order]
    group_start = np.searchsorted(sorted_d, sorted_d, side="left")
    rank_in_district = np.arange(n) - group_start
    key = sorted_d * n + rank_in_district // SCHOOLS_PER_KITCHEN
    _, inverse = np.unique(key, return_inverse=True)
    kitchen = np.empty(n, dtype=np.int32)
    kitchen[order] = inverse.astype(np.int32) + 1
    return kitchen


@functools.lru_cache(maxsize=16)
def school_arrays(n_schools: int = DEFAULT_N_SCHOOLS, seed: int = 0) -> SchoolArrays:
    """Sample the schools once per (n_schools, seed); cached because every fact block needs them.

    Enrolment is Zipf-like over a shuffled rank (a few schools of several thousand pupils, a
    long tail of a few hundred), so per-school work in the engine is realistically skewed.
    """
    n = _check_n("n_schools", n_schools)
    rng = block_rng(check_seed(seed), STREAM_SCHOOLS, 0)
    rank = rng.permutation(n) + 1
    enrolment = np.round((150 + 6000 * rank**-0.6) * rng.uniform(0.85, 1.15, n)).astype(np.int64)
    district = pick(cumulative([d[2] for d in cat.DISTRICTS]), rng.random(n))
    prefix = rng.integers(0, len(cat.SCHOOL_PREFIXES), n)
    kind = rng.integers(0, len(cat.SCHOOL_KINDS), n)
    government = np.isin(prefix, _GOVERNMENT_PREFIXES)
    free_share = np.round(
        np.where(government, rng.uniform(0.5, 0.9, n), rng.uniform(0.05, 0.35, n)), 3
    )
    opened = rng.integers(
        np.datetime64("1950-01-01", "D").astype(np.int64),
        np.datetime64("2020-12-31", "D").astype(np.int64),
        n,
    ).astype(np.int32)
    first_student = np.cumsum(enrolment) - enrolment + 1
    arrays = SchoolArrays(
        enrolment, first_student, _kitchen_of(district), free_share, district, prefix, kind, opened
    )
    for a in (arrays.enrolment, arrays.first_student, arrays.kitchen_id, arrays.free_share):
        a.flags.writeable = False
    return arrays


def schools(n_schools: int = DEFAULT_N_SCHOOLS, seed: int = 0) -> pa.Table:
    """The schools dimension (one row per school, ``school_id`` 1..n_schools)."""
    s = school_arrays(n_schools, seed)
    district_names = [d[1] for d in cat.DISTRICTS]
    district = labels(district_names, s.district)
    name = pc.binary_join_element_wise(
        labels(cat.SCHOOL_PREFIXES, s.prefix),
        labels(cat.SCHOOL_KINDS, s.kind),
        pc.binary_join_element_wise("School,", district, " "),
        " ",
    )
    return pa.Table.from_arrays(
        [
            pa.array(np.arange(1, n_schools + 1, dtype=np.int32)),
            name,
            district,
            labels([d[0] for d in cat.DISTRICTS], s.district),
            pa.array(s.enrolment.astype(np.int32)),
            pa.array(s.opened, type=pa.int32()).cast(pa.date32()),
            pa.array(s.kitchen_id),
            pa.array(s.free_share),
        ],
        schema=SCHOOLS_SCHEMA,
    )


def kitchens(n_schools: int = DEFAULT_N_SCHOOLS, seed: int = 0) -> pa.Table:
    """Central kitchens; each serves up to 20 schools of one district."""
    s = school_arrays(n_schools, seed)
    n_k = int(s.kitchen_id.max())
    idx = s.kitchen_id.astype(np.int64) - 1
    served = np.bincount(idx, minlength=n_k)
    meals = np.bincount(idx, weights=s.enrolment, minlength=n_k)
    district = np.zeros(n_k, dtype=np.int64)
    district[idx] = s.district  # every school of a kitchen has the same district
    capacity = (np.ceil(meals * 1.25 / 100) * 100).astype(np.int32)
    district_names = labels([d[1] for d in cat.DISTRICTS], district)
    kid = np.arange(1, n_k + 1, dtype=np.int32)
    name = pc.binary_join_element_wise(
        "Central Kitchen", district_names, pc.cast(pa.array(kid), pa.string()), " "
    )
    return pa.Table.from_arrays(
        [
            pa.array(kid),
            name,
            district_names,
            labels([d[0] for d in cat.DISTRICTS], district),
            pa.array(served.astype(np.int32)),
            pa.array(capacity),
        ],
        schema=KITCHENS_SCHEMA,
    )


def is_free_meal_eligible(
    student_id: np.ndarray, school_index: np.ndarray, s: SchoolArrays, seed: int
) -> np.ndarray:
    """Eligibility as a stateless function of the student id (shared by students and orders)."""
    return np.asarray(unit_hash(student_id, seed, _SALT_ELIGIBLE) < s.free_share[school_index])


def students(
    n_schools: int = DEFAULT_N_SCHOOLS, seed: int = 0, start: date = date(2025, 1, 1)
) -> pa.Table:
    """Every student of every school, with PII-like fields (names, guardian contact) for masking.

    ``start`` is the first day of the order window: grades and enrolment dates are as of then.
    """
    s = school_arrays(n_schools, seed)
    school_index = np.repeat(np.arange(len(s.enrolment)), s.enrolment)
    sid = np.arange(1, s.n_students + 1, dtype=np.int64)
    grade = (1 + np.floor(unit_hash(sid, seed, _SALT_GRADE) * 12)).astype(np.int8)
    eligible = is_free_meal_eligible(sid, school_index, s, seed)
    academic_year = start.year - (1 if start.month < 6 else 0)
    years_before = academic_year - (grade.astype(np.int64) - 1)
    june_first = (years_before - 1970) * 365.2425 + 151  # 1 June of that year, in days
    enrolled = np.maximum(
        june_first + unit_hash(sid, seed, _SALT_ENROL) * 20, s.opened[school_index]
    )
    dob = june_first - 365.2425 * 5.5 - unit_hash(sid, seed, _SALT_DOB) * 365
    first = labels(cat.FIRST_NAMES, _hash_code(sid, seed, _SALT_FIRST, len(cat.FIRST_NAMES)))
    last = labels(cat.LAST_NAMES, _hash_code(sid, seed, _SALT_LAST, len(cat.LAST_NAMES)))
    domain = labels(cat.EMAIL_DOMAINS, _hash_code(sid, seed, _SALT_DOMAIN, len(cat.EMAIL_DOMAINS)))
    sid_text = pc.cast(pa.array(sid), pa.string())
    local = pc.binary_join_element_wise(pc.utf8_lower(first), pc.utf8_lower(last), sid_text, ".")
    email = pc.binary_join_element_wise(local, domain, "@")
    phone_digits = 6_000_000_000 + np.floor(unit_hash(sid, seed, _SALT_PHONE) * 4e9).astype(
        np.int64
    )
    phone = pc.binary_join_element_wise("+91", pc.cast(pa.array(phone_digits), pa.string()), " ")
    return pa.Table.from_arrays(
        [
            pa.array(sid),
            pa.array((school_index + 1).astype(np.int32)),
            pa.array(grade),
            pa.array(eligible),
            pa.array(enrolled.astype(np.int32)).cast(pa.date32()),
            first,
            last,
            pa.array(dob.astype(np.int32)).cast(pa.date32()),
            email,
            phone,
        ],
        schema=STUDENTS_SCHEMA,
    )


def _hash_code(ids: np.ndarray, seed: int, salt: int, n: int) -> np.ndarray:
    return np.asarray(np.minimum(np.floor(unit_hash(ids, seed, salt) * n).astype(np.int64), n - 1))


@dataclass(frozen=True, slots=True)
class MenuArrays:
    """The numpy view of the menu used by the order generator (index = item_id - 1)."""

    category: np.ndarray  # int64 code into CATEGORIES
    price: np.ndarray  # float64, 2 decimals
    popularity: np.ndarray  # float64 weight within its category


CATEGORIES: tuple[str, ...] = ("breakfast", "lunch", "snack", "beverage", "dessert")


@functools.lru_cache(maxsize=16)
def menu_arrays(seed: int = 0) -> MenuArrays:
    """Prices (rounded to 50 paise) and Zipf-like popularity of each menu item."""
    rng = block_rng(check_seed(seed), STREAM_MENU, 0)
    lo = np.array([m[3] for m in cat.MENU], dtype=np.float64)
    hi = np.array([m[4] for m in cat.MENU], dtype=np.float64)
    price = np.round(rng.uniform(lo, hi) * 2) / 2
    category = np.array([CATEGORIES.index(m[0]) for m in cat.MENU], dtype=np.int64)
    rank = rng.permutation(len(cat.MENU)) + 1
    popularity = 1.0 / rank**0.8
    return MenuArrays(category, price, popularity)


def menu_items(seed: int = 0) -> pa.Table:
    """The menu: one row per item with category, price (2 decimals) and a vegetarian flag."""
    m = menu_arrays(seed)
    return pa.Table.from_arrays(
        [
            pa.array(np.arange(1, len(cat.MENU) + 1, dtype=np.int32)),
            pa.array([x[1] for x in cat.MENU], type=pa.string()),
            labels(CATEGORIES, m.category),
            pa.array(m.price),
            pa.array([x[2] for x in cat.MENU], type=pa.bool_()),
        ],
        schema=MENU_ITEMS_SCHEMA,
    )
