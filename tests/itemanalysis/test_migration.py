"""Item analysis left the scoring app: a database analysed before the move keeps every row,
its content types (so the roles' permissions) and its admin URLs after migrating forward."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from itemanalysis.models import AnalysisRun, FormStatistic, ItemStatistic
from tests.itemanalysis.helpers import analysed_form, full_pipeline, simulate

TABLES = ["scoring_analysisrun", "scoring_itemstatistic", "scoring_formstatistic"]
BEFORE = [("scoring", "0004_domain_score"), ("itemanalysis", None)]


def _rows() -> dict[str, list[tuple]]:
    with connection.cursor() as cursor:
        out = {}
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608 - fixed names
            out[table] = cursor.fetchall()
    return out


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_an_analysed_database_migrates_forward_without_losing_a_row():
    form = analysed_form()
    simulate(form, candidates=60)
    full_pipeline()
    before = _rows()
    assert all(before[t] for t in TABLES), "the analysis stored nothing to migrate"
    instructor_grants = set(
        Group.objects.get(name="Instructor")
        .permissions.filter(codename__endswith="analysisrun")
        .values_list("codename", flat=True)
    )
    assert "add_analysisrun" in instructor_grants

    # Back to the layout before the move: the models belong to the scoring app again.
    executor = _migrate(BEFORE)
    old = executor.loader.project_state(BEFORE[0]).apps
    assert old.get_model("scoring", "AnalysisRun").objects.count() == len(before[TABLES[0]])
    assert ContentType.objects.filter(app_label="scoring", model="analysisrun").exists()
    # None of the moved models is item analysis's any more (content types of models added
    # to the app later, e.g. the DIF runs, stay: Django never deletes content types).
    moved_models = ["analysisrun", "itemstatistic", "formstatistic"]
    assert not ContentType.objects.filter(app_label="itemanalysis", model__in=moved_models).exists()

    # Forward again, as a deployment of this layout does.
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert _rows() == before
    assert AnalysisRun.objects.count() == len(before["scoring_analysisrun"])
    assert ItemStatistic.objects.count() == len(before["scoring_itemstatistic"])
    assert FormStatistic.objects.count() == len(before["scoring_formstatistic"])
    moved = ContentType.objects.get(app_label="itemanalysis", model="analysisrun")
    assert not ContentType.objects.filter(app_label="scoring", model="analysisrun").exists()
    # The same content type row kept its permissions, and the role kept its grants.
    grants = set(
        Group.objects.get(name="Instructor")
        .permissions.filter(content_type=moved)
        .values_list("codename", flat=True)
    )
    assert grants == instructor_grants
    assert Permission.objects.filter(content_type=moved, codename="add_analysisrun").count() == 1
