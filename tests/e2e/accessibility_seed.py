"""The records the accessibility audit looks at, written straight into the site's database.

Run inside the site under test (`manage.py shell -c`), so that every page type can be
opened at once instead of being reached through slow journeys (a real conversion takes
seconds). Prints the ids the audit needs as one JSON line.
"""

from __future__ import annotations

import datetime
import json
import secrets

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import Student, User
from codegen.tests.factories import AnsweredQuestionFactory, FailedQuestionFactory
from latexocr.models import Conversion, Version
from latexocr.tests.factories import ConversionFactory

# A document long enough for the editor and the preview to scroll, with the mathematics
# and the accents of a real exercise sheet.
LATEX = (
    "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\begin{document}\n"
    "\\section*{Exercice 1}\n"
    + "".join(
        f"Question {n} : montrer que $u_{{n+1}} = \\frac{{1}}{{2}} u_n + {n}$ et $x \\neq 0$.\n\n"
        for n in range(1, 60)
    )
    + "\\end{document}\n"
)
COMPILE_ERRORS = [{"line": 5, "message": "Undefined control sequence.", "excerpt": "\\frac"}]


def seed(password: str) -> dict[str, object]:
    suffix = secrets.token_hex(3)
    user = User.objects.create(
        username=f"audit-{suffix}",
        first_name="Marie-Christine",
        last_name="Delacroix-Fontaine",
        password=make_password(password),
    )
    student = Student.objects.create(
        student_number=f"9{secrets.randbelow(10**7):07d}",
        user=User.objects.create(username=f"first-{suffix}", password=make_password(None)),
        last_name="Durand",
        first_name="Léa",
        birth_date=datetime.date(2005, 2, 1),
        must_change_password=True,
    )
    student.user.username = student.student_number
    student.user.save(update_fields=["username"])
    answered = AnsweredQuestionFactory.create(user=user)
    failed = FailedQuestionFactory.create(user=user)
    now = timezone.now()
    done = ConversionFactory.create(
        owner=user,
        status=Conversion.Status.DONE,
        pages_done=2,
        latex=LATEX,
        started_at=now,
        finished_at=now,
    )
    Version.objects.create(
        conversion=done,
        number=1,
        origin=Version.Origin.ORIGINAL,
        latex=LATEX,
        compile_status=Version.CompileStatus.FAILS,
        compile_errors=COMPILE_ERRORS,
    )
    Version.objects.create(
        conversion=done,
        number=2,
        origin=Version.Origin.EDITED,
        latex=LATEX.replace("\\neq", "\\ne"),
        compile_status=Version.CompileStatus.SKIPPED,
    )
    running = ConversionFactory.create(
        owner=user,
        status=Conversion.Status.RUNNING,
        page_count=3,
        pages_done=1,
        started_at=now,
        heartbeat_at=now,
    )
    failed_conversion = ConversionFactory.create(
        owner=user,
        status=Conversion.Status.FAILED,
        error_code="gemini.unavailable",
        charged=False,
        attempts=1,
        finished_at=now,
    )
    return {
        "username": user.username,
        "first_login_username": student.student_number,
        "first_login_password": "01022005",
        "answered": answered.pk,
        "failed": failed.pk,
        "conversion_done": str(done.pk),
        "conversion_running": str(running.pk),
        "conversion_failed": str(failed_conversion.pk),
    }


def main(password: str) -> None:
    print(json.dumps(seed(password)))
