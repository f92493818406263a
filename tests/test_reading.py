"""Friendlier reading of real exports by src/validate/__init__.py (issue 10, point 7).

Yes/no columns coded 1/0, TRUE/FALSE, Y/N, Yes/No; categories in another case or a declared synonym;
CTCAE v4/v5 adverse-event terms: all read as the dictionary's values through ``data/synonyms.csv``
(declared, not coded), and anything undeclared stays an error. Workbooks with several sheets, Excel day
numbers in date columns, SPSS value labels, blank cells in optional columns, thousands separators.

Test cohorts are built in ``tmp_path`` from ``data/examples/cohort250`` (a second synthetic cohort).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from src import validate as v

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "examples" / "cohort250"
TABLES = ("patients", "progression", "adverse_events")
EXPECTED = v.load_and_validate(EXAMPLE)


def text_rows(folder: Path, name: str) -> tuple[list[str], list[list[str]]]:
    text, _ = v.read_table(folder, name)
    return list(text.columns), [[c if c is not None else "" for c in r] for r in text.itertuples(index=False, name=None)]


def write(folder: Path, name: str, header, rows) -> None:
    for suffix in v.TABLE_SUFFIXES:
        (folder / f"{name}{suffix}").unlink(missing_ok=True)
    with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture
def cohort(tmp_path) -> Path:
    """cohort250 with every table as CSV text."""
    folder = tmp_path / "cohort"
    folder.mkdir()
    for name in TABLES:
        write(folder, name, *text_rows(EXAMPLE, name))
    return folder


def recode(folder: Path, name: str, column: str, how) -> None:
    """Rewrite every cell of a column with how(value, data row index)."""
    header, rows = text_rows(folder, name)
    position = header.index(column)
    for i, row in enumerate(rows):
        row[position] = how(row[position], i)
    write(folder, name, header, rows)


def problems_of(folder: Path, **kwargs) -> pd.DataFrame:
    with pytest.raises(v.DataValidationError) as info:
        v.load_and_validate(folder, **kwargs)
    return info.value.problems


# ---------------------------------------------------------------- yes/no and categories


YES = ["1", "TRUE", "true", "Y", "y", "Yes", "YES", "yes", "Present", "positive"]
NO = ["0", "FALSE", "False", "N", "n", "No", "NO", "no", "absent", "Negative"]


def test_yes_no_columns_coded_as_exports_code_them(cohort):
    for name in ("patients", "progression"):
        for column in ("ascites", "pvtt"):
            recode(cohort, name, column, lambda value, i: (YES if value == "yes" else NO)[i % len(YES)])
    tables = v.load_and_validate(cohort)
    for name in ("patients", "progression"):
        for column in ("ascites", "pvtt"):
            assert tables[name][column].tolist() == EXPECTED[name][column].tolist(), (name, column)


def test_zero_one_flags_written_as_words(cohort):
    recode(cohort, "patients", "death", lambda value, i: ["no", "FALSE", "alive"][i % 3] if value == "0"
           else ["Yes", "TRUE", "dead", "Died"][i % 4])
    recode(cohort, "adverse_events", "led_to_discontinuation", lambda value, i: "N" if value == "0" else "Y")
    tables = v.load_and_validate(cohort)
    assert tables["patients"]["death"].dtype == "int64"
    assert tables["patients"]["death"].tolist() == EXPECTED["patients"]["death"].tolist()
    assert tables["adverse_events"]["led_to_discontinuation"].tolist() == \
        EXPECTED["adverse_events"]["led_to_discontinuation"].tolist()


def test_categories_in_another_case_and_declared_synonyms(cohort):
    recode(cohort, "patients", "sex", lambda value, i: {"M": ["male", "m", "Male", "MAN"],
                                                        "F": ["female", "f", "Female", "WOMAN"]}[value][i % 4])
    recode(cohort, "patients", "best_response", lambda value, i: value.lower())
    recode(cohort, "progression", "salvage_treatment", lambda value, i: value.upper())
    recode(cohort, "patients", "bclc_stage", lambda value, i: value.lower())
    tables = v.load_and_validate(cohort)
    for name, column in (("patients", "sex"), ("patients", "best_response"), ("progression", "salvage_treatment"),
                         ("patients", "bclc_stage")):
        assert tables[name][column].tolist() == EXPECTED[name][column].tolist(), column


V4 = {
    "Bilirubin (hyperbilirubinemia)": "Blood bilirubin increased",
    "Platelets": "Platelet count decreased",
    "Hemoglobin": "Anemia",
    "Neutrophils/granulocytes (ANC/AGC)": "Neutrophil count decreased",
    "AST (SGOT)": "Aspartate aminotransferase increased",
    "ALT (SGPT)": "Alanine aminotransferase increased",
    "Alkaline phosphatase": "Alkaline phosphatase increased",
    "GGT (gamma-glutamyl transpeptidase)": "GGT increased",
    "Glucose (hyperglycemia)": "Hyperglycemia",
    "Rash/desquamation": "Rash maculo-papular",
}


def test_ctcae_v4_and_v5_terms_are_read_as_the_v3_terms(cohort):
    recode(cohort, "adverse_events", "term", lambda value, i: V4.get(value, value) if i % 2 == 0
           else V4.get(value, value).lower())
    tables = v.load_and_validate(cohort)
    assert tables["adverse_events"]["term"].tolist() == EXPECTED["adverse_events"]["term"].tolist()
    assert set(V4) <= set(EXPECTED["adverse_events"]["term"])  # every mapping above was exercised


@pytest.mark.parametrize("table, column, value, allowed", [
    ("adverse_events", "term", "Hepatic failure", "Nausea, Diarrhea"),
    ("adverse_events", "term", "Rash acneiform", "Nausea, Diarrhea"),
    ("patients", "sex", "X", "M, F"),
    ("patients", "ascites", "maybe", "yes, no"),
    ("patients", "ascites", "2", "yes, no"),
    ("patients", "pvtt", "unknown", "yes, no"),
])
def test_anything_not_declared_stays_an_error(cohort, table, column, value, allowed):
    recode(cohort, table, column, lambda old, i: value if i == 3 else old)
    problems = problems_of(cohort)
    match = problems[(problems["row"] == 5) & (problems["column"] == column)]
    assert len(match) == 1 and f"'{value}' is not one of {allowed}" in match["message"].iloc[0], problems.to_string()
    assert len(problems) == 1


def test_undeclared_words_in_a_flag_column_stay_an_error(cohort):
    recode(cohort, "patients", "death", lambda old, i: "perhaps" if i == 0 else old)
    problems = problems_of(cohort)
    assert problems["message"].tolist() == ["patients.csv row 2, death 'perhaps' is not an integer"]


def test_a_folder_with_its_own_synonyms(cohort):
    shutil.copyfile(v.DEFAULT_DICTIONARY, cohort / "data_dictionary.csv")
    (cohort / "synonyms.csv").write_text("table,column,value,means\npatients,sex,1,M\npatients,sex,2,F\n",
                                         encoding="utf-8")
    recode(cohort, "patients", "sex", lambda value, i: "1" if value == "M" else "2")
    tables = v.load_and_validate(cohort)
    assert tables["patients"]["sex"].tolist() == EXPECTED["patients"]["sex"].tolist()
    # its own list replaces the project's: 'male' is not declared there
    recode(cohort, "patients", "sex", lambda value, i: "male" if i == 0 else value)
    problems = problems_of(cohort)
    assert problems["message"].tolist() == ["patients.csv row 2, sex 'male' is not one of M, F"]
    # without a synonyms file beside the dictionary, values are read exactly as written
    (cohort / "synonyms.csv").unlink()
    recode(cohort, "patients", "sex", lambda value, i: "m" if i == 0 else {"1": "M", "2": "F"}[value])
    problems = problems_of(cohort)
    assert problems["message"].tolist() == [
        "patients.csv row 2, sex 'm' is not one of M, F (written in another case than 'M'; values are read exactly "
        "as written because the data dictionary in use has no synonyms.csv beside it)"]


@pytest.mark.parametrize("line, says", [
    ("patients,sex,male,X", "synonyms.csv row 2, 'X' is not an allowed value of patients.sex (M, F)"),
    ("patients,sexe,male,M", "synonyms.csv row 2, column 'sexe' is not in the data dictionary"),
    ("clinic,sex,male,M", "synonyms.csv row 2, table 'clinic' is not in the data dictionary"),
    ("patients,sex,f,M", "synonyms.csv row 2, 'f' is itself the allowed value 'F' of patients.sex"),
    ("patients,death,dead,2", "synonyms.csv row 2, '2' is outside the allowed range of patients.death"),
    ("patients,patient_id,x,P1", "patients.patient_id is a string column"),
])
def test_a_synonym_that_does_not_fit_the_dictionary_is_refused(cohort, line, says):
    shutil.copyfile(v.DEFAULT_DICTIONARY, cohort / "data_dictionary.csv")
    (cohort / "synonyms.csv").write_text(f"table,column,value,means\n{line}\n", encoding="utf-8")
    with pytest.raises(v.DataValidationError) as info:
        v.load_and_validate(cohort)
    assert says in str(info.value), str(info.value)


def test_one_value_declared_with_two_meanings_is_refused(tmp_path):
    path = tmp_path / "synonyms.csv"
    path.write_text("table,column,value,means\n*,ascites,y|1,yes\nprogression,ascites,Y,no\n", encoding="utf-8")
    with pytest.raises(v.DataValidationError) as info:
        v.read_synonyms(path, v.read_dictionary(v.DEFAULT_DICTIONARY))
    assert "synonyms.csv row 3, 'Y' of progression.ascites is declared twice, as 'yes' and as 'no'" in str(info.value)


def test_the_project_synonyms_fit_the_project_dictionary():
    synonyms = v.read_synonyms(v.default_synonyms(v.DEFAULT_DICTIONARY), v.read_dictionary(v.DEFAULT_DICTIONARY))
    assert synonyms[("adverse_events", "term")]["anemia"] == "Hemoglobin"
    assert synonyms[("progression", "pvtt")]["true"] == "yes"


def test_cli_lists_how_values_were_read(cohort, capsys):
    recode(cohort, "patients", "sex", lambda value, i: "male" if value == "M" else value)
    assert v.main([str(cohort)]) == 0
    out = capsys.readouterr().out
    n = int((EXPECTED["patients"]["sex"] == "M").sum())
    assert f"patients.csv: sex 'male' read as 'M' (synonym in synonyms.csv; {n} cells)" in out


# ------------------------------------------------------------------------ Excel sheets


def _workbook(path: Path, sheets: dict) -> None:
    with pd.ExcelWriter(path) as writer:
        for title, frame in sheets.items():
            frame.to_excel(writer, sheet_name=title, index=False)


def _progression_frame(cohort: Path) -> pd.DataFrame:
    header, rows = text_rows(cohort, "progression")
    return pd.DataFrame(rows, columns=header)


def test_xlsx_sheet_named_after_the_table_among_others(cohort):
    frame = _progression_frame(cohort)
    (cohort / "progression.csv").unlink()
    _workbook(cohort / "progression.xlsx", {"Notes": pd.DataFrame({"note": ["exported 2021-07-01"]}),
                                            "Progression": frame, "Lookup": pd.DataFrame({"code": [1, 2]})})
    tables = v.load_and_validate(cohort)
    pd.testing.assert_frame_equal(tables["progression"], EXPECTED["progression"])


def test_xlsx_the_only_sheet_with_data(cohort):
    frame = _progression_frame(cohort)
    (cohort / "progression.csv").unlink()
    _workbook(cohort / "progression.xlsx", {"Sheet1": pd.DataFrame(), "Export": frame, "Sheet3": pd.DataFrame()})
    tables = v.load_and_validate(cohort)
    pd.testing.assert_frame_equal(tables["progression"], EXPECTED["progression"])


def test_xlsx_several_sheets_with_data_and_none_named_after_the_table(cohort):
    frame = _progression_frame(cohort)
    (cohort / "progression.csv").unlink()
    _workbook(cohort / "progression.xlsx", {"2019": frame.iloc[:50], "2020": frame.iloc[50:], "empty": pd.DataFrame()})
    problems = problems_of(cohort)
    assert problems["message"].tolist() == [
        "progression.xlsx has 3 worksheets ('2019', '2020', 'empty'), 2 of them with data ('2019', '2020') and "
        "none is named 'progression'; name the worksheet that holds the table 'progression', or delete the others"]
    assert problems["file"].tolist() == ["progression.xlsx"]


# ---------------------------------------------------------------- Excel day numbers


def test_excel_day_number_in_a_date_column_gets_a_hint(cohort):
    recode(cohort, "patients", "first_haic_date", lambda old, i: "40909" if i == 0 else old)
    recode(cohort, "progression", "progression_date", lambda old, i: "43466.0" if i == 1 else old)
    problems = problems_of(cohort)
    patients = problems[problems["file"] == "patients.csv"]["message"].tolist()
    assert patients[0] == ("patients.csv row 2, first_haic_date '40909' is not a date written as YYYY-MM-DD "
                           "(40909 looks like an Excel day number: it is the date 2012-01-01; format the column as "
                           "a date, or write the date as YYYY-MM-DD)")
    progression = problems[(problems["file"] == "progression.csv") & (problems["row"] == 3)]["message"].tolist()
    assert "43466.0 looks like an Excel day number: it is the date 2019-01-01" in progression[0]


def test_a_year_is_not_called_an_excel_day_number(cohort):
    recode(cohort, "patients", "first_haic_date", lambda old, i: "2012" if i == 0 else old)
    problems = problems_of(cohort)
    message = problems[problems["row"] == 2]["message"].iloc[0]
    assert "'2012' is not a date written as YYYY-MM-DD" in message and "Excel" not in message


# -------------------------------------------------------------------- SPSS value labels


def test_spss_value_labels_that_name_allowed_values_are_used(cohort):
    import pyreadstat

    frame = EXPECTED["patients"].copy()
    for column in frame.columns[frame.dtypes == "datetime64[ns]"]:
        frame[column] = frame[column].dt.date
    frame["sex"] = frame["sex"].map({"M": 1, "F": 2})
    frame["ascites"] = frame["ascites"].map({"yes": 1, "no": 0})
    labels = {
        "sex": {1: "male", 2: "female"},  # read through the synonyms
        "ascites": {1: "Yes", 0: "No"},  # another case
        "ecog_ps": {0: "Fully active", 1: "Restricted", 2: "Ambulatory", 3: "Limited", 4: "Disabled"},  # codes kept
        "death": {0: "censored", 1: "event"},  # labels that are no allowed value: the codes are kept
    }
    (cohort / "patients.csv").unlink()
    pyreadstat.write_sav(frame, str(cohort / "patients.sav"), variable_value_labels=labels)
    tables = v.load_and_validate(cohort)
    pd.testing.assert_frame_equal(tables["patients"], EXPECTED["patients"])


def test_spss_codes_without_a_usable_label_are_reported_as_written(cohort):
    import pyreadstat

    frame = EXPECTED["patients"].copy()
    for column in frame.columns[frame.dtypes == "datetime64[ns]"]:
        frame[column] = frame[column].dt.date
    frame["sex"] = frame["sex"].map({"M": 1, "F": 2})
    (cohort / "patients.csv").unlink()
    pyreadstat.write_sav(frame, str(cohort / "patients.sav"), variable_value_labels={"sex": {1: "male", 2: "other"}})
    problems = problems_of(cohort)
    assert set(problems["column"]) == {"sex"} and problems["message"].str.contains("'[12]' is not one of M, F").all()


# ------------------------------------------------------------ blank optional cells


def test_a_blank_cell_in_an_optional_column_is_a_missing_value(cohort):
    recode(cohort, "patients", "afp", lambda old, i: "" if i in (0, 5) else old)
    recode(cohort, "patients", "tumor_distribution", lambda old, i: "" if i == 1 else old)
    recode(cohort, "progression", "max_tumor_size_mm", lambda old, i: "" if i == 2 else old)
    recode(cohort, "patients", "n_haic_sessions", lambda old, i: "" if i == 3 else old)
    tables = v.load_and_validate(cohort)
    patients = tables["patients"]
    assert patients["afp"].isna().tolist()[:7] == [True, False, False, False, False, True, False]
    assert patients["afp"].isna().sum() == 2
    assert patients.loc[1, "tumor_distribution"] is None and patients["tumor_distribution"].isna().sum() == 1
    assert np.isnan(tables["progression"].loc[2, "max_tumor_size_mm"])
    assert str(patients["n_haic_sessions"].dtype) == "Int64" and patients["n_haic_sessions"].isna().sum() == 1
    # a required column still needs every value
    recode(cohort, "patients", "alt", lambda old, i: "" if i == 0 else old)
    assert problems_of(cohort)["message"].tolist() == ["patients.csv row 2, alt is missing (a value is required)"]


def test_a_row_cut_short_is_still_reported_in_an_optional_column(cohort):
    header, rows = text_rows(cohort, "patients")
    cut = header.index("afp")
    rows[2] = rows[2][:cut]
    write(cohort, "patients", header, rows)
    problems = problems_of(cohort)
    afp = problems[problems["column"] == "afp"]["message"].tolist()
    assert afp == [f"patients.csv row 4, afp is missing: the row ends after {cut} values (the header has "
                   f"{len(header)} columns); leave a cell empty with a comma (,,) if the value is not known"]


# ------------------------------------------------------------------ separators in numbers


@pytest.mark.parametrize("column, value, says", [
    ("alt", "2,833", "(the comma looks like a thousands separator: write 2833, digits only without separators"),
    ("afp", "12,500", "write 12500, digits only"),
    ("afp", "1,234,567.5", "write 1234567.5, digits only"),
    ("tumor_count", "1,000", "write 1000, digits only"),
    ("albumin", "2,8", "(use a decimal point, not a comma)"),
    ("total_bilirubin", "0,75", "(use a decimal point, not a comma)"),
    ("alt", "0,750", "(use a decimal point, not a comma)"),
    ("afp", "1.234,5", "(write 1234.5: no thousands separator, a decimal point)"),
])
def test_thousands_separator_and_decimal_comma_hints(cohort, column, value, says):
    recode(cohort, "patients", column, lambda old, i: value if i == 0 else old)
    problems = problems_of(cohort)
    message = problems[(problems["row"] == 2) & (problems["column"] == column)]["message"].iloc[0]
    assert f"'{value}' is not " in message and says in message, message
    if "thousands" in says:
        assert "decimal point, not a comma" not in message
