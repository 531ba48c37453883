"""The restore drill: a backup made by scripts/backup, restored by scripts/restore, is the database.

Every kind of record the site stores is written to the test run's PostgreSQL, backed up,
restored into a fresh database, and compared table by table and row by row by checksum. Then
the site serves the restored original PDF, compiled PDF and LaTeX byte for byte. A backup that
has never been restored is a hope, not a backup: this runs on every test run.
"""

from __future__ import annotations

import datetime
import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from psycopg import sql

from accounts.models import RegistrationAttempt, User
from accounts.tests.factories import StudentFactory, UserFactory
from codegen.tests.factories import AnsweredQuestionFactory, FailedQuestionFactory
from latexocr.models import Conversion, RepairRequest, Version
from latexocr.tasks import version_compile_task
from latexocr.tests.factories import ConversionFactory
from platform_site.models import AccountExport, StaffAccess
from platform_site.privacy.export_runs import account_export_build
from tests.pdfs import blank_pdf

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="pg_dump and pg_restore need PostgreSQL"
    ),
]

# Every byte value, so a bytea that a dump or restore mangled (encoding, escaping) shows.
EVERY_BYTE = bytes(range(256))
DROP = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")


def database_url(name: str) -> str:
    settings = connection.settings_dict
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or "5432"
    return f"postgresql://{quote(settings['USER'], safe='')}{password}@{host}:{port}/{name}"


def run_script(name: str, *arguments: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / name), *arguments],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": url},
        timeout=120,
    )


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database beside the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored"[:63]
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(DROP.format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(DROP.format(sql.Identifier(name)))


def every_kind_of_record(settings: Any) -> dict[str, Any]:
    """One or more rows in every table the site has, written as the site writes them."""
    staff = UserFactory.create(username="prof", is_staff=True, is_superuser=True)
    student = StudentFactory.create(
        last_name="Cœurdacier",
        first_name="Anaïs",
        email="anais@example.org",
        must_change_password=False,
        user=UserFactory.create(username="202612345"),
    )
    group = Group.objects.create(name="Enseignants")
    permission = Permission.objects.get(codename="view_student")
    group.permissions.add(permission)
    staff.groups.add(group)
    staff.user_permissions.add(permission)
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(student.user.pk),
        object_repr=str(student),
        action_flag=ADDITION,
        change_message="[]",
    )
    RegistrationAttempt.objects.create(ip_address="192.0.2.7")
    StaffAccess.objects.create(
        staff=staff, staff_username="prof", owner=student.user, kind="question", object_id="1"
    )

    AnsweredQuestionFactory.create(user=student.user, message="Trier une liste « à l’envers » ?")
    FailedQuestionFactory.create(user=student.user)

    source_pdf = blank_pdf(3) + b"%" + EVERY_BYTE
    conversion = ConversionFactory.create(
        owner=student.user,
        pdf=source_pdf,
        status=Conversion.Status.DONE,
        latex="\\section{Suites}\n$u_{n+1} = \\frac12 u_n + 3$, x \\neq 0\n",
        page_issues={"1": "low_confidence"},
        finished_at=timezone.now(),
    )
    compiled = blank_pdf(2) + b"%" + EVERY_BYTE[::-1]
    version = Version.objects.create(
        conversion=conversion,
        number=1,
        origin=Version.Origin.ORIGINAL,
        latex=conversion.latex + "% é ∑ ∫ \N{DOUBLE-STRUCK CAPITAL N}\n",
        compile_status=Version.CompileStatus.COMPILES,
        compiled_pdf=compiled,
        compiled_page_count=2,
        compiled_at=timezone.now(),
    )
    RepairRequest.objects.create(conversion=conversion, owner=student.user, source_number=1)
    # A prepared "download everything", built as the worker builds it (ZIP in chunks).
    export = AccountExport.objects.create(
        owner=student.user, expires_at=timezone.now() + datetime.timedelta(hours=24)
    )
    account_export_build(export_id=export.pk)

    # A queued background task, as the database backend stores it for the worker.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    version_compile_task.enqueue(version_id=version.pk)

    # Sign-in records: a session, and the lockout's failures, attempts and access log.
    client = Client()
    client.force_login(student.user)
    failure = {
        "user_agent": "Firefox",
        "ip_address": "192.0.2.8",
        "username": student.student_number,
        "http_accept": "text/html",
        "path_info": "/accounts/login/",
    }
    AccessFailureLog.objects.create(**failure, locked_out=False)
    attempt = AccessAttempt.objects.create(
        **failure, get_data="", post_data="username=…", failures_since_start=1
    )
    AccessAttemptExpiration.objects.create(
        access_attempt=attempt, expires_at=timezone.now() + datetime.timedelta(minutes=15)
    )
    AccessLog.objects.create(**failure, session_hash="0" * 64)
    return {"client": client, "conversion": conversion, "version": version, "source": source_pdf}


def site_tables() -> list[str]:
    tables = set()
    for model in apps.get_models(include_auto_created=True):
        tables.add(model._meta.db_table)
    return sorted(tables)


def all_tables(url: str) -> list[str]:
    with psycopg.connect(url) as database:
        rows = database.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
    return [row[0] for row in rows]


def row_checksums(url: str, table: str) -> list[str]:
    """The MD5 of each row's text form, sorted: equal lists mean equal tables, row by row."""
    with psycopg.connect(url) as database:
        query = sql.SQL("SELECT md5(t::text) FROM {} t ORDER BY 1").format(sql.Identifier(table))
        rows = database.execute(query).fetchall()
    return [row[0] for row in rows]


def sequence_values(url: str) -> dict[str, int]:
    with psycopg.connect(url) as database:
        rows = database.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall()
    return {name: value for name, value in rows}


@pytest.fixture
def restored_served(fresh_database: str) -> Iterator[None]:
    """The site's default connection on the restored database while the test uses it."""
    original = connection.settings_dict["NAME"]
    yield
    connections["default"].close()
    connection.settings_dict["NAME"] = original


def test_a_backup_restores_into_a_fresh_database_identical_row_by_row_and_served_byte_for_byte(
    settings: Any, tmp_path: Path, fresh_database: str, restored_served: None
) -> None:
    made = every_kind_of_record(settings)
    source_url = database_url(connection.settings_dict["NAME"])
    restored_url = database_url(fresh_database)
    empty = [table for table in site_tables() if not row_checksums(source_url, table)]
    assert empty == [], "the drill must fill every table the site has"

    backup = run_script("backup", str(tmp_path / "site.dump"), url=source_url)
    assert backup.returncode == 0, backup.stderr
    assert Path(backup.stdout.strip()) == tmp_path / "site.dump"
    restore = run_script("restore", str(tmp_path / "site.dump"), url=restored_url)
    assert restore.returncode == 0, restore.stderr

    tables = all_tables(source_url)
    assert set(site_tables()) <= set(tables)
    assert all_tables(restored_url) == tables
    for table in tables:
        assert row_checksums(restored_url, table) == row_checksums(source_url, table), table
    # New rows after a restore get fresh ids, never one a restored row holds.
    assert sequence_values(restored_url) == sequence_values(source_url)

    connections["default"].close()
    connection.settings_dict["NAME"] = fresh_database
    client, conversion, version = made["client"], made["conversion"], made["version"]
    source = client.get(reverse("latexocr:source_pdf", args=[conversion.pk]))
    compiled = client.get(reverse("latexocr:version_pdf", args=[conversion.pk, 1]))
    latex = client.get(reverse("latexocr:version_tex", args=[conversion.pk, 1]))

    assert source.status_code == compiled.status_code == latex.status_code == 200
    assert b"".join(source) == made["source"]
    assert (
        hashlib.sha256(compiled.content).digest()
        == hashlib.sha256(bytes(version.compiled_pdf)).digest()
    )
    assert latex.content.decode() == version.latex


def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(
    tmp_path: Path, fresh_database: str
) -> None:
    url = database_url(fresh_database)
    with psycopg.connect(url, autocommit=True) as database:
        database.execute("CREATE TABLE kept (id int)")
    bogus = tmp_path / "notes.dump"
    bogus.write_text("not a dump")

    result = run_script("restore", str(bogus), url=url)

    assert result.returncode != 0
    assert "not a pg_dump custom-format backup" in result.stderr
    assert all_tables(url) == ["kept"]


def test_backup_refuses_a_database_that_is_not_postgresql(tmp_path: Path) -> None:
    result = run_script("backup", str(tmp_path / "x.dump"), url="sqlite:////tmp/site.db")

    assert result.returncode != 0
    assert "not a PostgreSQL URL" in result.stderr
    assert not (tmp_path / "x.dump").exists()
