"""Provider templates: one workbook and one example CSV per kind, that parse back to clean rows."""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook

from outcome_monitor.ingest.kinds import KINDS
from outcome_monitor.ingest.rejection import MessageRejected
from outcome_monitor.ingest.tabular import parse_tabular
from outcome_monitor.ingest.templates import choices, example_rows, write_templates
from outcome_monitor.validation.row_checks import check_rows


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("templates")
    return folder, write_templates(folder)


def test_one_workbook_and_one_csv_per_kind(templates):
    folder, written = templates
    assert sorted(path.name for path in written) == sorted(
        f"aanlevering-{name}.{suffix}" for name in KINDS for suffix in ("xlsx", "csv")
    )
    assert all(path.parent == folder and path.stat().st_size > 0 for path in written)


@pytest.mark.parametrize("kind_name", sorted(KINDS))
def test_workbook_has_header_explanation_and_drop_downs(templates, kind_name):
    folder, _ = templates
    kind = KINDS[kind_name]
    workbook = load_workbook(folder / f"aanlevering-{kind_name}.xlsx")
    assert workbook.sheetnames == ["gegevens", "toelichting", "codelijsten"]
    assert workbook["codelijsten"].sheet_state == "hidden"
    data = workbook["gegevens"]
    assert [cell.value for cell in data[1]] == [column.name for column in kind.columns]
    explained = {row[0]: row for row in workbook["toelichting"].iter_rows(values_only=True) if row[0]}
    for column in kind.columns:
        name, required, type_name, allowed, _example, description = explained[column.name]
        assert required == ("ja" if column.required else "nee") and type_name and description
        if column.allowed:
            assert all(value in allowed for value in column.allowed)
    lists = {str(validation.sqref).split(":")[0]: validation for validation in data.data_validations.dataValidation}
    for position, column in enumerate(kind.columns):
        letter = data.cell(row=1, column=position + 1).column_letter
        validation = lists.get(f"{letter}2")
        if choices(column):
            assert validation is not None and validation.type == "list", column.name
            source = validation.formula1.split("!")[1].replace("$", "")
            offered = [cell.value for (cell,) in workbook["codelijsten"][source]]
            assert offered == choices(column)
        elif column.bounds:
            assert validation.type == "whole" and (validation.formula1, validation.formula2) == tuple(
                map(str, column.bounds)
            )
        else:
            assert validation is None, column.name


def test_code_lists_in_the_workbook_keep_leading_zeros(templates):
    folder, _ = templates
    workbook = load_workbook(folder / "aanlevering-declaratie.xlsx")
    values = [row[0] for row in workbook["codelijsten"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert "0014" in values  # Groningen
    assert workbook["gegevens"].column_dimensions["A"].number_format == "@"


@pytest.mark.parametrize("kind_name", sorted(KINDS))
def test_example_csv_parses_to_clean_rows_that_pass_the_row_suites(templates, kind_name):
    folder, _ = templates
    parsed = parse_tabular((folder / f"aanlevering-{kind_name}.csv").read_bytes(), f"aanlevering-{kind_name}.csv")
    assert parsed.kind == kind_name and parsed.row_count == len(example_rows(KINDS[kind_name]))
    for record_type, rows in parsed.rows_by_type.items():
        assert all("_problems" not in row for row in rows)
        assert check_rows(record_type, rows).codes_per_row == [[] for _ in rows]


def test_empty_template_is_a_file_without_rows(templates):
    folder, _ = templates
    with pytest.raises(MessageRejected) as caught:
        parse_tabular((folder / "aanlevering-uitkomst.xlsx").read_bytes(), "aanlevering-uitkomst.xlsx")
    assert caught.value.code == "OM001"


@pytest.mark.parametrize("kind_name", ["declaratie", "levering", "uitkomst", "afspraak"])
def test_template_filled_in_with_openpyxl_parses_back(templates, tmp_path, kind_name):
    folder, _ = templates
    kind = KINDS[kind_name]
    workbook = load_workbook(folder / f"aanlevering-{kind_name}.xlsx")
    sheet = workbook["gegevens"]
    for row_number, example in enumerate(example_rows(kind), start=2):
        for position, column in enumerate(kind.columns, start=1):
            value = example[column.name] or None
            # As a provider's Excel stores it: real dates and numbers where the cell looks like one.
            if value and column.type == "date":
                value = date.fromisoformat(value)
            elif value and column.type == "int":
                value = int(value)
            sheet.cell(row=row_number, column=position, value=value)
    filled = tmp_path / "ingevuld.xlsx"
    workbook.save(filled)
    parsed = parse_tabular(filled.read_bytes(), "ingevuld.xlsx", submission_id="S9")
    from_csv = parse_tabular((folder / f"aanlevering-{kind_name}.csv").read_bytes(), "x.csv", submission_id="S9")
    assert parsed.kind == kind_name
    for record_type, rows in parsed.rows_by_type.items():
        expected = from_csv.rows_by_type[record_type]
        for row, other in zip(rows, expected, strict=True):
            assert "_problems" not in row
            assert {**row, "member_name": None, "berichtcode": None} == {
                **other,
                "member_name": None,
                "berichtcode": None,
            }
