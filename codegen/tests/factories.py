from __future__ import annotations

import factory

from accounts.tests.factories import UserFactory
from codegen.models import Question
from codegen.rendering import explanation_render


class QuestionFactory(factory.django.DjangoModelFactory[Question]):
    class Meta:
        model = Question

    user = factory.SubFactory(UserFactory)
    message = "Écris une fonction qui renvoie la somme d'une liste."
    backend = Question.Backend.WEBHOOK
    status = Question.Status.PENDING


class AnsweredQuestionFactory(QuestionFactory):
    status = Question.Status.ANSWERED
    code = "def somme(valeurs):\n    return sum(valeurs)"
    explanation = "La fonction `somme` utilise **sum**."
    explanation_html = factory.LazyAttribute(lambda o: str(explanation_render(o.explanation)))
    reply = factory.LazyAttribute(
        lambda o: f"```python\n{o.code}\n```\nExplication : {o.explanation}"
    )
    latency_ms = 1200
    attempts = 1


class FailedQuestionFactory(QuestionFactory):
    status = Question.Status.FAILED
    error_code = "llm.unreachable"
    error_params = factory.LazyFunction(lambda: {"status": 500})
    error_detail = "The webhook answered 500: boom"
    charged = False
    attempts = 1
