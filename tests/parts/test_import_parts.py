import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from parts.models import Part, PartCategory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "parts" / "fixtures"


def import_parts(path, *args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_parts", str(path), *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


# Import -------------------------------------------------------------------------------------


def test_sample_catalog_imports_and_a_second_run_changes_nothing():
    out, err = import_parts(
        FIXTURES / "parts.csv", categories=str(FIXTURES / "part_categories.csv")
    )
    assert err == ""
    total = Part.objects.count()
    assert 140 <= total <= 200
    assert f"Parts: {total} added, 0 updated, 0 unchanged, 0 row(s) skipped." in out
    assert Part.objects.get(part_num="3001").name == "Brick 2 x 4"
    assert Part.objects.get(part_num="3001").category.name == "Bricks"
    assert "] 100%" in out  # the progress bar got to the end

    out, _ = import_parts(FIXTURES / "parts.csv", categories=str(FIXTURES / "part_categories.csv"))
    assert f"Parts: 0 added, 0 updated, {total} unchanged" in out
    assert "Categories: 0 added, 0 renamed" in out


def test_renamed_parts_and_categories_are_updated(tmp_path):
    header = "part_num,name,part_cat_id,part_material\n"
    categories = write(tmp_path, "cats.csv", "id,name\n11,Bricks\n")
    parts = write(tmp_path, "parts.csv", header + "3001,Brick 2x4,11,Plastic\n")
    import_parts(parts, categories=str(categories))
    write(tmp_path, "cats.csv", "id,name\n11,Bricks (basic)\n")
    write(
        tmp_path,
        "parts.csv",
        header + '3001,"Brick 2 x 4",11,Plastic\n3003,Brick 2 x 2,11,Plastic\n',
    )
    out, _ = import_parts(parts, categories=str(categories))
    assert "Parts: 1 added, 1 updated, 0 unchanged" in out
    assert Part.objects.get(part_num="3001").name == "Brick 2 x 4"
    assert PartCategory.objects.get(pk=11).name == "Bricks (basic)"


def test_missing_columns_refuse_the_file_and_write_nothing(tmp_path):
    parts = write(tmp_path, "parts.csv", "part_num,name\n3001,Brick 2 x 4\n")
    with pytest.raises(CommandError, match="lacks the column.*part_cat_id"):
        import_parts(parts)
    assert not Part.objects.exists()


def test_malformed_rows_are_reported_by_line_and_skipped(tmp_path):
    content = (
        b"part_num,name,part_cat_id,part_material\n"
        b"3001,Brick 2 x 4,11,Plastic\n"
        b"\n"
        b"3003,Brick 2 x 2,eleven,Plastic\n"
        b"3004,Brick \xff\xfe 1 x 2,11,Plastic\n"
        b"3001,Brick 2 x 4 again,11,Plastic\n"
        b",No number,11,Plastic\n"
        b"3005,Brick 1 x 1\n"
        b"\n"
        b"3010,Brick 1 x 4,11,Plastic\n"
    )
    parts = write(tmp_path, "parts.csv", content)
    out, err = import_parts(parts)
    assert sorted(Part.objects.values_list("part_num", flat=True)) == ["3001", "3010"]
    assert "line 4: bad category id 'eleven'" in err
    assert "line 5: not valid UTF-8" in err
    assert "line 6: part 3001 again (first on line 2)" in err
    assert "line 7: bad part number ''" in err
    assert "line 8: 2 fields where the header has 4" in err
    assert "2 added, 0 updated, 0 unchanged, 5 row(s) skipped" in out
    # A category the catalog does not know yet gets a placeholder until it is imported.
    assert PartCategory.objects.get(pk=11).name == "Category 11"


def test_strict_refuses_the_whole_file_when_any_row_is_malformed(tmp_path):
    parts = write(
        tmp_path,
        "parts.csv",
        "part_num,name,part_cat_id,part_material\n3001,Brick 2 x 4,11,Plastic\n3003,,11,Plastic\n",
    )
    with pytest.raises(CommandError, match="1 malformed row"):
        import_parts(parts, strict=True)
    assert not Part.objects.exists()


def test_a_batch_is_never_half_applied(tmp_path, monkeypatch):
    parts = write(
        tmp_path,
        "parts.csv",
        "part_num,name,part_cat_id,part_material\n3001,Brick 2 x 4,11,Plastic\n3003,Brick,11,\n",
    )
    import_parts(parts)
    write(
        tmp_path,
        "parts.csv",
        "part_num,name,part_cat_id,part_material\n3001,Renamed,11,Plastic\n3004,New,11,\n",
    )

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away mid-batch")

    monkeypatch.setattr(Part.objects, "bulk_update", broken)
    with pytest.raises(RuntimeError):
        import_parts(parts)
    assert sorted(Part.objects.values_list("part_num", "name")) == [
        ("3001", "Brick 2 x 4"),
        ("3003", "Brick"),
    ]


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="is empty"):
        import_parts(write(tmp_path, "parts.csv", ""))


def test_import_parts_from_the_command_line(manage):
    # `manage.py` runs Django's system checks first, which call_command skips: a command that
    # shadows BaseCommand.check() crashed here and nowhere else.
    first = manage(
        "manage.py",
        "import_parts",
        str(FIXTURES / "parts.csv"),
        "--categories",
        str(FIXTURES / "part_categories.csv"),
    )
    assert first.returncode == 0, first.stderr
    (total,) = manage.sql("SELECT COUNT(*) FROM parts_part")[0]
    assert f"Parts: {total} added, 0 updated, 0 unchanged, 0 row(s) skipped." in first.stdout
    assert manage.sql("SELECT name FROM parts_part WHERE part_num = '3001'") == [("Brick 2 x 4",)]

    again = manage("manage.py", "import_parts", str(FIXTURES / "parts.csv"), "--strict")
    assert again.returncode == 0, again.stderr
    assert f"Parts: 0 added, 0 updated, {total} unchanged" in again.stdout


def test_import_parts_command_line_refuses_a_malformed_file_with_strict(manage, tmp_path):
    path = write(tmp_path, "bad.csv", "part_num,name,part_cat_id\n3001,Brick 2 x 4,11\n,x,1\n")
    refused = manage("manage.py", "import_parts", str(path), "--strict")
    assert refused.returncode == 1
    assert "line 3: bad part number" in refused.stderr and "nothing imported" in refused.stderr
    assert manage.sql("SELECT COUNT(*) FROM parts_part") == [(0,)]


def test_part_numbers_with_a_slash_are_refused(tmp_path):
    path = write(tmp_path, "slash.csv", "part_num,name,part_cat_id\n3001/a,Odd,\n3001,Brick,\n")
    out, err = import_parts(path)
    assert "line 2: bad part number '3001/a'" in err
    assert list(Part.objects.values_list("part_num", flat=True)) == ["3001"]
