from __future__ import annotations

import datetime

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Student, User

PASSWORD = "Cerf-volant-bleu-2026"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Camille"
    last_name = "Martin"
    password = factory.LazyFunction(lambda: make_password(PASSWORD))


class StudentFactory(factory.django.DjangoModelFactory[Student]):
    """A student in first-login state, as the roster import creates them."""

    class Meta:
        model = Student

    student_number = factory.Sequence(lambda n: f"2026{n:05d}")
    user = factory.LazyAttribute(
        lambda o: UserFactory.create(username=o.student_number, password=make_password(None))
    )
    last_name = "Durand"
    first_name = "Léa"
    birth_date = datetime.date(2005, 2, 1)
    email = ""
    must_change_password = True
