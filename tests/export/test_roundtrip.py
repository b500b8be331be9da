import json

import pytest

from core.export.importer import import_data
from core.export.writer import ExportOptions, export_project
from core.project import Project
from tests.export.helpers import all_files


@pytest.mark.parametrize("multi_turn", [False, True], ids=["per-qa", "multi-turn"])
@pytest.mark.parametrize("fmt", ["llava", "sharegpt", "hf", "trl", "internvl", "webdataset"])
def test_export_import_export_is_identical(proj, tmp_path, fmt, multi_turn):
    options = dict(val_fraction=0.25, seed=7, multi_turn=multi_turn)
    first = tmp_path / "first"
    export_project(proj, first, ExportOptions(fmt, **options))

    with Project.create(tmp_path / "fresh") as fresh:
        summary = import_data(fresh, first, workers=0)
        assert summary.instructions == 50 and summary.images == 12 and not summary.skipped
        origins = fresh.db.fetchall("SELECT DISTINCT origin, status FROM instructions")
        assert origins == [("imported", "accepted")]
        # options come back as a list, the answer as the letter
        mc = fresh.db.fetchone(
            "SELECT options, answer FROM instructions WHERE itype = 'multiple_choice' LIMIT 1"
        )
        assert mc == (["red", "green", "blue", "grey"], "A")
        assert fresh.db.scalar("SELECT count(DISTINCT license) FROM images") == 2
        second = tmp_path / "second"
        export_project(fresh, second, ExportOptions(fmt, **options))

    a, b = all_files(first), all_files(second)
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == ["manifest.json"]
    ma, mb = (json.loads(x["manifest.json"]) for x in (a, b))
    for m in (ma, mb):
        del m["created_at"], m["project"]
    assert ma == mb
