"""Accounts: logins per second per process (Argon2id against Django's default PBKDF2), a class
of students logging in on one worker pinned to one core, and the 5,000-row roster import."""

from __future__ import annotations

import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.load import locust_run
from bench.report import INFO, Row, percentile, spread, verdict
from bench.stack import PASSWORD, Stack, users_create

HASHER_GOAL_RATIO = 15
CLASS_GOAL_P95_MS = 1000
ROSTER_ROWS = 5000
ROSTER_GOAL_S = 10
ARGON2_FIRST = [
    "accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Django 6.1's default list: PBKDF2 first.
PBKDF2_FIRST = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "accounts.hashers.Argon2idHasher",
]


def _logins_per_second(username: str, hashers: list[str], duration_s: float) -> float:
    """Full logins through the login view in this one process (one thread), as fast as it goes."""
    from django.test import Client, override_settings

    with override_settings(PASSWORD_HASHERS=hashers):
        client = Client()
        client.post("/accounts/login/", {"username": username, "password": PASSWORD})
        client.cookies.clear()
        count = 0
        started = time.perf_counter()
        while time.perf_counter() - started < duration_s or count < 2:
            response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
            if response.status_code != 302:
                raise RuntimeError(f"login answered {response.status_code}")
            client.cookies.clear()
            count += 1
        return count / (time.perf_counter() - started)


def _checks_per_second(encoded: str, duration_s: float) -> float:
    """The password check alone (the hasher's verify), one thread."""
    from django.contrib.auth.hashers import identify_hasher

    hasher = identify_hasher(encoded)
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < duration_s or count < 2:
        if not hasher.verify(PASSWORD, encoded):
            raise RuntimeError(f"{hasher.algorithm} refused the password")
        count += 1
    return count / (time.perf_counter() - started)


def hashers(stack: Stack, quick: bool) -> list[Row]:
    from django.contrib.auth.hashers import make_password
    from django.test import override_settings

    from accounts.models import User

    names = users_create(prefix="bench-hasher", count=2)
    argon2_user, pbkdf2_user = names
    with override_settings(PASSWORD_HASHERS=PBKDF2_FIRST):
        User.objects.filter(username=pbkdf2_user).update(password=make_password(PASSWORD))
    rounds, duration_s = (1, 1.0) if quick else (3, 5.0)
    argon2_rates, pbkdf2_rates, ratios = [], [], []
    # Interleaved rounds: both hashers see the same noise from the shared machine.
    for _ in range(rounds):
        pbkdf2 = _logins_per_second(pbkdf2_user, PBKDF2_FIRST, duration_s)
        argon2 = _logins_per_second(argon2_user, ARGON2_FIRST, duration_s)
        pbkdf2_rates.append(pbkdf2)
        argon2_rates.append(argon2)
        ratios.append(argon2 / pbkdf2)
    ratio = statistics.median(ratios)
    encoded = dict(User.objects.filter(username__in=names).values_list("username", "password"))
    check_ratios = [
        _checks_per_second(encoded[argon2_user], duration_s / 2)
        / _checks_per_second(encoded[pbkdf2_user], duration_s / 2)
        for _ in range(rounds)
    ]
    check_ratio = statistics.median(check_ratios)
    note = (
        f"Full logins (login view, axes, session write) in one thread of the harness process; "
        f"{rounds} interleaved round(s) of {duration_s:g} s per hasher"
        + (" (quick mode)" if quick else "")
        + f". Argon2id {spread(argon2_rates)} logins/s, PBKDF2 {spread(pbkdf2_rates)} logins/s."
    )
    return [
        Row(
            scenario="logins/s per process",
            figure=f"Argon2id {statistics.median(argon2_rates):.1f}/s = {ratio:.1f}x PBKDF2",
            value=round(ratio, 2),
            unit="x",
            compared_against=f"PBKDF2 (Django default) {statistics.median(pbkdf2_rates):.2f}/s",
            goal=f"≥ {HASHER_GOAL_RATIO}x",
            verdict=verdict(ratio >= HASHER_GOAL_RATIO),
            note=note,
        ),
        Row(
            scenario="password checks/s per process (the hash alone)",
            figure=f"Argon2id = {check_ratio:.1f}x PBKDF2",
            value=round(check_ratio, 2),
            unit="x",
            compared_against="PBKDF2 (Django default), same run",
            goal=f"≥ {HASHER_GOAL_RATIO}x",
            verdict=verdict(check_ratio >= HASHER_GOAL_RATIO),
            note=(
                "The hasher's verify() alone, one thread, interleaved: the ratio of the hash "
                "costs without the login's fixed part (view, axes, session, queries), which "
                f"dilutes the ratio of whole logins above. Rounds: {spread(check_ratios)}."
            ),
        ),
    ]


def class_login(stack: Stack, quick: bool) -> list[Row]:
    """300 students within 60 s on one gunicorn worker pinned to core 0; locust on core 1."""
    students, window_s = (30, 6) if quick else (300, 60)
    names = users_create(prefix="bench-class", count=students)
    with stack.site("gunicorn-class", workers=1, cpus="0") as site:
        results = locust_run(
            locustfile="class_login.py",
            host=site.base_url,
            users=students,
            spawn_rate=students / window_s,
            run_time_s=window_s + 3,
            workdir=stack.workdir,
            env={"BENCH_USERNAMES": ",".join(names)},
            cpus="1",
        )
    logins = results.get("login")
    if logins is None or not logins.times_ms:
        raise RuntimeError("no login was recorded")
    succeeded = sum(status == 302 for status in logins.statuses)
    p95 = percentile(logins.times_ms, 95)
    return [
        Row(
            scenario=f"class of {students} logging in within {window_s} s, 1 worker on 1 core",
            figure=(
                f"login p95 {p95:.0f} ms (p50 {percentile(logins.times_ms, 50):.0f} ms, "
                f"max {max(logins.times_ms):.0f} ms; {succeeded}/{students} logged in)"
            ),
            value=round(p95, 1),
            unit="ms",
            goal=f"p95 < {CLASS_GOAL_P95_MS} ms, all logged in",
            verdict=verdict(p95 < CLASS_GOAL_P95_MS and succeeded == students),
            note=(
                "locust (pinned to core 1) spawns the students at a steady rate; each GETs the "
                "login form then POSTs it (the POST is timed). gunicorn: 1 uvicorn worker "
                "(requests on its thread pool, at most 4 hashes at once), pinned to core 0 with "
                "taskset; "
                "PostgreSQL is not pinned."
                + (" Quick mode: 30 students in 6 s (same rate)." if quick else "")
            ),
        )
    ]


def _roster_csv(rows: int) -> bytes:
    lines = ["student_number;last_name;first_name;birth_date;email"]
    start = datetime.date(2004, 1, 1)
    for number in range(rows):
        birth = start + datetime.timedelta(days=number % 1500)
        lines.append(
            f"BENCH{number:06d};Nom{number};Prénom{number};{birth:%d/%m/%Y};"
            f"etudiant{number}@example.org"
        )
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def _roster_xlsx(rows: int) -> bytes:
    """A student information system's export: a title row, French headers, integer student
    numbers, date cells, and two columns the import ignores."""
    import io

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Inscrits")
    sheet.append(["Liste des inscrits 2026"])
    sheet.append(
        [
            "Numéro étudiant",
            "Nom",
            "Prénom",
            "Date de naissance",
            "Courriel",
            "Code étape",
            "Régime",
        ]
    )
    start = datetime.date(2004, 1, 1)
    for number in range(rows):
        sheet.append(
            [
                39_500_000 + number,
                f"Nom{number}",
                f"Prénom{number}",
                start + datetime.timedelta(days=number % 1500),
                f"etudiant{number}@example.org",
                "L1MAT",
                "FI",
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _import_rounds(
    data: bytes, prefix: str, repetitions: int
) -> tuple[list[float], list[float], list[float]]:
    from accounts.models import User
    from accounts.services import student_import_apply_rows, student_import_preview

    previews, applies, totals = [], [], []
    for _ in range(repetitions):
        User.objects.filter(username__startswith=prefix).delete()
        started = time.perf_counter()
        preview = student_import_preview(data=data)
        previewed = time.perf_counter()
        if not preview.is_valid or len(preview.to_create) != ROSTER_ROWS:
            raise RuntimeError(f"unexpected preview: {preview.errors[:3]}")
        # The admin's confirm step imports the previewed rows (signed in the page).
        result = student_import_apply_rows(rows=preview.rows)
        finished = time.perf_counter()
        if result.created != ROSTER_ROWS:
            raise RuntimeError(f"created {result.created} students, not {ROSTER_ROWS}")
        previews.append(previewed - started)
        applies.append(finished - previewed)
        totals.append(finished - started)
    User.objects.filter(username__startswith=prefix).delete()
    return previews, applies, totals


PARSE_CHILD = """
import json, resource, sys, time
import django
import psutil
django.setup()
from accounts.roster.importing import roster_parse
data = open(sys.argv[1], "rb").read()
before = psutil.Process().memory_info().rss // 1024
started = time.perf_counter()
parsed = roster_parse(data=data)
elapsed = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"s": elapsed, "before": before, "after": after, "errors": len(parsed.errors)}))
"""


def _parse_peak(data: bytes, workdir: Path) -> tuple[float, float, float]:
    """Seconds, peak RSS and its growth over the RSS just before (MiB) of reading a roster
    file in a fresh process."""
    path = workdir / "roster-largest.xlsx"
    path.write_bytes(data)
    result = subprocess.run(
        [sys.executable, "-c", PARSE_CHILD, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "platform_site.settings"},
        cwd=Path(__file__).resolve().parent.parent,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    if figures["errors"]:
        raise RuntimeError(f"{figures['errors']} unexpected error(s) reading the roster")
    return figures["s"], figures["after"] / 1024, (figures["after"] - figures["before"]) / 1024


def roster(stack: Stack, quick: bool) -> list[Row]:
    from accounts.roster.tables import ROSTER_MAX_ROWS

    repetitions = 1 if quick else 3
    rows = []
    for label, data, prefix in (
        ("", _roster_csv(ROSTER_ROWS), "BENCH"),
        (" from .xlsx", _roster_xlsx(ROSTER_ROWS), "3950"),
    ):
        previews, applies, totals = _import_rounds(data, prefix, repetitions)
        total = statistics.median(totals)
        rows.append(
            Row(
                scenario=f"{ROSTER_ROWS:,}-row roster{label} preview + import",
                figure=(
                    f"{total:.2f} s (preview {statistics.median(previews):.2f} s + import "
                    f"{statistics.median(applies):.2f} s)"
                ),
                value=round(total, 3),
                unit="s",
                goal=f"< {ROSTER_GOAL_S} s",
                verdict=verdict(total < ROSTER_GOAL_S),
                note=(
                    f"accounts.services student_import_preview (reads the {len(data) // 1024} KiB "
                    f"file) then student_import_apply_rows (the admin's two steps) on a fresh "
                    f"year group, in the harness process against PostgreSQL; median of "
                    f"{repetitions} run(s): {spread(totals)} s."
                ),
            )
        )
    if quick:
        return rows  # The largest file's row: full runs only (it keeps the smoke test short).
    largest = _roster_xlsx(ROSTER_MAX_ROWS)
    seconds, peak, growth = _parse_peak(largest, stack.workdir)
    rows.append(
        Row(
            scenario=f"{ROSTER_MAX_ROWS:,}-row .xlsx (the largest accepted) read",
            figure=f"{seconds:.2f} s; process peak RSS {peak:.0f} MiB (+{growth:.0f} MiB)",
            value=round(growth, 1),
            unit="MiB",
            verdict=INFO,
            note=(
                "accounts.roster.importing.roster_parse alone on a "
                f"{len(largest) // 1024} KiB workbook (openpyxl read-only, defusedxml), in a "
                "fresh Python process with Django set up: the memory and time a preview "
                "needs at the row limit."
            ),
        )
    )
    return rows
