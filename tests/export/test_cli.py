import json

from core.cli import main
from core.project import Project


def test_export_validate_import_through_the_cli(proj, tmp_path, capsys):
    root = str(proj.root)
    proj.close()  # the CLI opens the project itself
    out = tmp_path / "exp"
    rc = main(
        [
            "export",
            root,
            "--format",
            "sharegpt",
            "--out",
            str(out),
            "--val-fraction",
            "0.25",
            "--seed",
            "1",
            "--domain",
            "nature,charts",
            "--type",
            "judgement",
            "--type",
            "short_vqa",
            "--images",
            "hardlink",
            "--json",
        ]
    )
    assert rc == 0
    got = json.loads(capsys.readouterr().out)
    assert set(got) == {"out", "format", "data_files", "counts", "files", "unsafe_text",
                        "image_normalization"}  # fmt: skip
    assert got["unsafe_text"]["items"] == 0 and got["unsafe_text"]["mode"] == "escape"
    assert got["format"] == "sharegpt" and got["data_files"] == {
        "train": "train.json",
        "val": "val.json",
    }
    assert got["counts"]["instructions"] == 16 and set(got["counts"]["by_domain"]) == {
        "nature",
        "charts",
    }
    assert main(["validate", str(out), "--format", "sharegpt", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True

    fresh = tmp_path / "fresh"
    assert main(["init", str(fresh), "--no-default-domains"]) == 0
    capsys.readouterr()
    assert main(["import-data", str(fresh), str(out), "--workers", "0", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["instructions"] == 16 and summary["images"] == 8 and summary["skipped"] == {}
    with Project.open(fresh) as p:
        assert p.db.scalar("SELECT count(*) FROM instructions WHERE origin = 'imported'") == 16

    assert main(["export", root, "--format", "llava", "--out", str(out)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert (
        main(["export", root, "--format", "llava", "--out", str(tmp_path / "x"), "--lang", "fr"])
        == 1
    )
    assert "unknown language 'fr'" in capsys.readouterr().err
