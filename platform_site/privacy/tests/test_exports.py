from __future__ import annotations

import datetime
import io
import json
import zipfile
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import Student
from accounts.tests.factories import UserFactory
from platform_site.models import AccountExport, AccountExportChunk
from platform_site.privacy import export_runs
from platform_site.privacy.account_data import account_erase, account_export_zip
from platform_site.privacy.exports import (
    ExportExpired,
    account_export_ready_get,
    account_export_request,
    account_export_stored_bytes,
)
from platform_site.privacy.retention import expired_purge
from platform_site.privacy.tests.test_account_data import student_with_everything

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture
def large_account(settings: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Student, Client]:
    """A student whose documents are above the inline limit, stored in several chunks."""
    student, client, _ = student_with_everything(settings)
    settings.TASKS = IMMEDIATE
    settings.PRIVACY_EXPORT_INLINE_MAX_MB = 0
    settings.PRIVACY_EXPORT_LINK_HOURS = 24
    monkeypatch.setattr("platform_site.core.chunks.CHUNK_BYTES", 1024)
    return student, client


def archive_contents(data: bytes) -> dict[str, bytes]:
    """Every entry of a ZIP, the export's own timestamp left out (it differs run to run)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    contents = {name: archive.read(name) for name in archive.namelist()}
    account = json.loads(contents["account.json"])
    del account["exported_at"]
    contents["account.json"] = json.dumps(account).encode()
    return contents


def queued_for(export: AccountExport) -> bool:
    """Whether a task row of the database backend names the export."""
    tasks = DBTaskResult.objects.all()
    return any(str(export.pk) in json.dumps(task.args_kwargs) for task in tasks)


def request_and_build(client: Client, callbacks_fixture: Any) -> AccountExport:
    with callbacks_fixture(execute=True):
        response = client.get("/privacy/my-data/export/")
    assert response.status_code == 302 and response["Location"] == "/privacy/my-data/"
    return AccountExport.objects.get()


def test_a_small_account_downloads_at_once_and_queues_nothing(settings: Any) -> None:
    student, client, _ = student_with_everything(settings)
    settings.PRIVACY_EXPORT_INLINE_MAX_MB = 5
    assert 0 < account_export_stored_bytes(user=student.user) < 5 * 1024 * 1024

    response = client.get("/privacy/my-data/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "questions.json" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert not AccountExport.objects.exists()


def test_a_large_account_is_queued_then_built_by_the_task_into_chunks(
    large_account: tuple[Student, Client], django_capture_on_commit_callbacks: Any
) -> None:
    student, client = large_account

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.get("/privacy/my-data/export/")

    assert response.status_code == 302
    export = AccountExport.objects.get(owner=student.user)
    assert export.status == AccountExport.Status.PREPARING
    assert len(callbacks) == 1
    page = client.get("/privacy/my-data/").content.decode()
    assert "en préparation" in page and "/privacy/my-data/exports/" not in page

    callbacks[0]()

    export.refresh_from_db()
    assert export.status == AccountExport.Status.READY
    assert export.ready_at is not None
    assert export.expires_at == export.ready_at + datetime.timedelta(hours=24)
    chunks = AccountExportChunk.objects.filter(export=export)
    assert chunks.count() > 1
    assert sum(len(chunk.data) for chunk in chunks) == export.size_bytes
    page = client.get("/privacy/my-data/").content.decode()
    assert f'href="/privacy/my-data/exports/{export.pk}/"' in page


def test_the_prepared_zip_holds_what_the_immediate_export_holds(
    large_account: tuple[Student, Client], django_capture_on_commit_callbacks: Any
) -> None:
    student, client = large_account
    export = request_and_build(client, django_capture_on_commit_callbacks)

    response = client.get(f"/privacy/my-data/exports/{export.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Length"] == str(export.size_bytes)
    assert response["Content-Disposition"].startswith('attachment; filename="mes-donnees-')
    prepared = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert len(prepared) == export.size_bytes
    student.user.refresh_from_db()  # its last sign-in, as the task read it
    immediate = account_export_zip(user=student.user)
    assert archive_contents(prepared) == archive_contents(immediate)
    assert any(name.endswith("original.pdf") for name in archive_contents(prepared))


def test_asking_again_while_it_is_prepared_queues_nothing_more(
    large_account: tuple[Student, Client], django_capture_on_commit_callbacks: Any
) -> None:
    _, client = large_account

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.get("/privacy/my-data/export/")
        client.get("/privacy/my-data/export/")

    assert len(callbacks) == 1
    assert AccountExport.objects.count() == 1


def test_asking_again_once_it_is_ready_replaces_it(
    large_account: tuple[Student, Client], django_capture_on_commit_callbacks: Any
) -> None:
    _, client = large_account
    first = request_and_build(client, django_capture_on_commit_callbacks)

    second = request_and_build(client, django_capture_on_commit_callbacks)

    assert second.pk != first.pk
    assert not AccountExport.objects.filter(pk=first.pk).exists()
    assert client.get(f"/privacy/my-data/exports/{first.pk}/").status_code == 404


def test_only_the_owner_can_download_the_prepared_file(
    large_account: tuple[Student, Client], django_capture_on_commit_callbacks: Any
) -> None:
    _, client = large_account
    export = request_and_build(client, django_capture_on_commit_callbacks)
    url = f"/privacy/my-data/exports/{export.pk}/"
    other = Client()
    other.force_login(UserFactory.create())

    assert other.get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    assert client.get(url).status_code == 200


def test_the_link_is_refused_once_it_has_expired(
    large_account: tuple[Student, Client], django_capture_on_commit_callbacks: Any
) -> None:
    student, client = large_account
    export = request_and_build(client, django_capture_on_commit_callbacks)

    last_moment = export.expires_at - SECOND
    assert account_export_ready_get(user=student.user, export_id=export.pk, now=last_moment)
    with pytest.raises(ExportExpired):
        account_export_ready_get(user=student.user, export_id=export.pk, now=export.expires_at)

    AccountExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - SECOND)
    response = client.get(f"/privacy/my-data/exports/{export.pk}/")
    assert response.status_code == 410
    assert response["Content-Type"].startswith("text/html")
    assert "Ce lien a expiré" in response.content.decode()


def test_expired_exports_are_purged_with_their_chunks_and_fresh_ones_stay(
    large_account: tuple[Student, Client], django_capture_on_commit_callbacks: Any
) -> None:
    _, client = large_account
    expired = request_and_build(client, django_capture_on_commit_callbacks)
    other = UserFactory.create(last_login=timezone.now())
    # Asked for a day later: its link lives a day longer.
    fresh = account_export_request(user=other, now=expired.expires_at)

    counts = expired_purge(now=expired.expires_at + SECOND)

    assert counts["data exports"] == 1
    assert list(AccountExport.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not AccountExportChunk.objects.filter(export=expired).exists()


def test_an_export_never_built_is_purged_when_its_link_would_have_expired(
    large_account: tuple[Student, Client],
) -> None:
    student, _ = large_account
    now = timezone.now()
    export = account_export_request(user=student.user, now=now)

    assert expired_purge(now=now + datetime.timedelta(hours=24))["data exports"] == 0
    assert expired_purge(now=now + datetime.timedelta(hours=24) + SECOND)["data exports"] == 1
    assert not AccountExport.objects.filter(pk=export.pk).exists()


def test_erasing_the_account_removes_its_exports_and_their_queued_task(
    large_account: tuple[Student, Client],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    student, client = large_account
    request_and_build(client, django_capture_on_commit_callbacks)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        queued = account_export_request(user=student.user, now=timezone.now())
    assert queued_for(queued)

    account_erase(user=student.user)

    assert not AccountExport.objects.exists()
    assert not AccountExportChunk.objects.exists()
    assert not queued_for(queued)


def test_a_build_that_fails_is_marked_failed_and_can_be_asked_again(
    large_account: tuple[Student, Client],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _, client = large_account

    def broken(**_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(export_runs, "account_export_write", broken)
    failed = request_and_build(client, django_capture_on_commit_callbacks)

    assert failed.status == AccountExport.Status.FAILED
    assert not AccountExportChunk.objects.exists()
    page = client.get("/privacy/my-data/").content.decode()
    assert "La préparation du fichier a échoué" in page
    assert 'href="/privacy/my-data/export/"' in page
    monkeypatch.undo()
    assert request_and_build(client, django_capture_on_commit_callbacks).status == "ready"


def test_a_build_for_an_export_replaced_meanwhile_does_nothing(
    large_account: tuple[Student, Client],
) -> None:
    student, _ = large_account
    export = account_export_request(user=student.user, now=timezone.now())
    AccountExport.objects.filter(pk=export.pk).delete()

    export_runs.account_export_build(export_id=export.pk)

    assert not AccountExportChunk.objects.exists()


def test_the_prepared_file_is_offered_in_english(
    large_account: tuple[Student, Client],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _, client = large_account
    request_and_build(client, django_capture_on_commit_callbacks)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = client.get("/privacy/my-data/").content.decode()

    assert "Your file is ready" in page and "Download the prepared file" in page
    assert "Votre fichier" not in page
