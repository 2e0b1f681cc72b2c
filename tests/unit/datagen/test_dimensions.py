"""Dimension tables: schema, determinism, skew and the PII-like student fields."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hasivu_compute.datagen import school


def test_schools_are_deterministic_and_skewed() -> None:
    a, b = school.schools(500, seed=3), school.schools(500, seed=3)
    assert a.equals(b)
    assert not a.equals(school.schools(500, seed=4))
    assert a.schema.equals(school.SCHOOLS_SCHEMA)
    assert a["school_id"].to_pylist() == list(range(1, 501))
    enrol = np.sort(a["enrolment"].to_numpy())
    assert enrol[0] >= 100 and enrol[-1] > 10 * np.median(enrol), (
        "Zipf-like: a few very large schools"
    )
    assert pc.min(a["opened"]).as_py().year >= 1950


def test_students_belong_to_their_school_range() -> None:
    sch = school.schools(200, seed=1)
    st = school.students(200, seed=1)
    assert st.schema.equals(school.STUDENTS_SCHEMA)
    assert st.num_rows == pc.sum(sch["enrolment"]).as_py()
    assert st["student_id"].to_pylist() == list(range(1, st.num_rows + 1))
    per_school = st.group_by("school_id").aggregate([("student_id", "count")]).sort_by("school_id")
    assert per_school["student_id_count"].to_pylist() == sch["enrolment"].to_pylist()
    grades = st["grade"].to_numpy()
    assert grades.min() == 1 and grades.max() == 12
    emails = st["guardian_email"]
    assert pc.count_distinct(emails).as_py() == st.num_rows, "emails carry the student id"
    assert pc.all(pc.match_substring(emails, "@")).as_py()
    assert pc.all(pc.less(st["date_of_birth"], st["enrolled_on"])).as_py()


def test_free_meal_share_tracks_school_share() -> None:
    sch = school.schools(300, seed=2)
    st = school.students(300, seed=2)
    got = (
        st.group_by("school_id").aggregate([("is_free_meal_eligible", "mean")]).sort_by("school_id")
    )
    expected = sch["free_meal_share"].to_numpy()
    big_schools = sch["enrolment"].to_numpy() > 800
    diff = np.abs(got["is_free_meal_eligible_mean"].to_numpy() - expected)[big_schools]
    assert diff.max() < 0.08


def test_kitchens_serve_one_district() -> None:
    sch = school.schools(400, seed=0)
    k = school.kitchens(400, seed=0)
    assert k.schema.equals(school.KITCHENS_SCHEMA)
    joined = sch.select(["kitchen_id", "district"]).join(
        k.select(["kitchen_id", "district"]), "kitchen_id", right_suffix="_k"
    )
    assert joined.num_rows == 400
    assert pc.all(pc.equal(joined["district"], joined["district_k"])).as_py()
    assert pc.max(k["schools_served"]).as_py() <= 20
    assert pc.sum(k["schools_served"]).as_py() == 400


def test_menu_items() -> None:
    m = school.menu_items(seed=0)
    assert m.schema.equals(school.MENU_ITEMS_SCHEMA)
    assert m.equals(school.menu_items(seed=0))
    price = m["price"].to_numpy()
    assert np.array_equal(price, np.round(price, 2)) and (price > 0).all()
    assert set(pc.unique(m["category"]).to_pylist()) == {
        "breakfast",
        "lunch",
        "snack",
        "beverage",
        "dessert",
    }
    assert 0.7 < pc.mean(m["is_vegetarian"].cast(pa.int8())).as_py() < 1.0
