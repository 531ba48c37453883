"""The whole file into rows for the import, and the rows signed for the confirm step."""

from __future__ import annotations

import pytest
from django.core import signing

from accounts.roster.importing import roster_parse, roster_sign, roster_unsign
from accounts.roster.tables import ROSTER_MAX_ROWS
from accounts.tests.roster.builders import (
    FRENCH_HEADER,
    LEA,
    xlsx_file,
)

# --- the confirm step -----------------------------------------------------------------------


def test_signed_rows_come_back_identical_and_a_tampered_token_is_refused() -> None:
    data = xlsx_file([FRENCH_HEADER, [21900401, "Cœurdacier", "Léa", LEA, "lea@etu.example.org"]])
    rows = roster_parse(data=data).rows

    token = roster_sign(rows=rows)

    assert roster_unsign(token=token) == rows
    with pytest.raises(signing.BadSignature):
        roster_unsign(token=token[:-2] + "xx")


@pytest.mark.parametrize(
    ("count", "accepted"), [(ROSTER_MAX_ROWS, True), (ROSTER_MAX_ROWS + 1, False)]
)
def test_the_row_limit_counts_students_not_the_title_or_header(count: int, accepted: bool) -> None:
    lines = ["Liste des inscrits", "", "n°;nom;prénom;né le"]
    lines += [f"{n};D;L;01/01/2005" for n in range(count)]

    result = roster_parse(data="\n".join(lines).encode())

    assert (len(result.rows), not result.errors) == ((count, True) if accepted else (0, False))
