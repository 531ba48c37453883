"""The reply parser over the shapes models actually produce."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from codegen.parser import reply_parse
from tests.timing import assert_linear_time

DEFAULT = "Le modèle n’a donné aucune explication avec ce code."

SHAPES = [
    pytest.param(
        "Voici :\n```python\nprint(1)\n```\n**Explication :**\nAffiche 1.",
        "print(1)",
        "Affiche 1.",
        id="the-old-service-shape",
    ),
    pytest.param(
        "Voici :\r\n```python\r\nx = 1\r\ny = 2\r\n```\r\n**Explication :**\r\nDeux variables.\r\n",
        "x = 1\ny = 2",
        "Deux variables.",
        id="crlf-line-endings",
    ),
    pytest.param(
        "```python\ndef f():\n    return 1\n",
        "def f():\n    return 1",
        DEFAULT,
        id="trailing-unclosed-fence",
    ),
    pytest.param("```py\na = 1\n```\nExplication: court.", "a = 1", "court.", id="py-tag"),
    pytest.param(
        "```python3\na = 1\n```\nExplanation: short.", "a = 1", "short.", id="python3-tag"
    ),
    pytest.param(
        "```Python\na = 1\n```\n## Explication\nTitre.", "a = 1", "Titre.", id="capital-tag"
    ),
    pytest.param(
        "```\nb = 2\n```\n**Explication** : sans étiquette.",
        "b = 2",
        "sans étiquette.",
        id="untagged-block",
    ),
    pytest.param(
        "```bash\npip install x\n```\n```\nc = 3\n```\n"
        "Explication : le bloc bash n'est pas du code.",
        "c = 3",
        "le bloc bash n'est pas du code.",
        id="untagged-preferred-to-other-languages",
    ),
    pytest.param(
        "```\nuntagged = True\n```\n```python\ntagged = True\n```\nExplication : étiqueté.",
        "tagged = True",
        "étiqueté.",
        id="tagged-blocks-win-over-untagged",
    ),
    pytest.param(
        "Premier :\n```python\na = 1\n```\n"
        "Puis :\n```py\nb = 2\n```\n### Explication :\nDeux blocs.",
        "a = 1\n\nb = 2",
        "Deux blocs.",
        id="several-blocks-joined-by-a-blank-line",
    ),
    pytest.param(
        "Il suffit d'utiliser la fonction sorted.",
        "",
        "Il suffit d'utiliser la fonction sorted.",
        id="no-fence-at-all",
    ),
    pytest.param(
        "Voici le code.\n```python\nz = 0\n```\nIl met z à zéro.",
        "z = 0",
        "Voici le code.\n\nIl met z à zéro.",
        id="no-marker-keeps-the-prose-outside-code",
    ),
    pytest.param(
        "```python\nz = 0\n```", "z = 0", DEFAULT, id="code-only-gets-the-default-sentence"
    ),
    pytest.param(
        "```python\nx = 1\n```\n__Explication :__ souligné.",
        "x = 1",
        "souligné.",
        id="underscore-bold",
    ),
    pytest.param(
        "```python\nx = 1\n```\nEXPLICATION DU CODE :\nMajuscules.",
        "x = 1",
        "Majuscules.",
        id="uppercase-marker-with-qualifier",
    ),
    pytest.param(
        "```python\nx = 1\n```\n**Explication**\nGras seul sur sa ligne.",
        "x = 1",
        "Gras seul sur sa ligne.",
        id="bold-marker-alone-on-its-line",
    ),
    pytest.param(
        "```python\n# Explication : un commentaire n'est pas un marqueur\nx = 1\n```\nFin.",
        "# Explication : un commentaire n'est pas un marqueur\nx = 1",
        "Fin.",
        id="marker-inside-code-is-ignored",
    ),
    pytest.param(
        "**Explication :** on trie puis on compte.\n```python\nsorted(l)\n```",
        "sorted(l)",
        "on trie puis on compte.",
        id="marker-before-the-code-does-not-repeat-it",
    ),
    pytest.param(
        "```python\nx = 1\n```\n**Explication :**\nExemple :\n```text\n1\n```",
        "x = 1",
        "Exemple :\n\n```text\n1\n```",
        id="explanation-keeps-its-non-code-blocks",
    ),
    pytest.param(
        "```python\nx = 1\n```\n**Explication :** <script>alert(1)</script> fin",
        "x = 1",
        "<script>alert(1)</script> fin",
        id="script-in-explanation-is-kept-as-text-for-the-renderer",
    ),
    pytest.param(
        "  \n\n```python\n\n\nx = 1\n\n```\n\n  Explication : espaces.  \n\n",
        "x = 1",
        "espaces.",
        id="surrounding-whitespace",
    ),
    pytest.param(
        "````python\ns = '```'\n````\nExplication : clôture longue.",
        "s = '```'",
        "clôture longue.",
        id="four-backtick-fence-holding-three",
    ),
    pytest.param(
        "~~~python\ny = 2\n~~~\nExplication : tildes.", "y = 2", "tildes.", id="tilde-fence"
    ),
    pytest.param("", "", DEFAULT, id="empty-reply"),
    pytest.param(
        "Une explication de la boucle suit.\n```python\nfor i in range(3): pass\n```",
        "for i in range(3): pass",
        "Une explication de la boucle suit.",
        id="the-word-in-a-sentence-is-not-a-marker",
    ),
]


@pytest.mark.parametrize(("reply", "code", "explanation"), SHAPES)
def test_the_parser_finds_the_code_and_the_explanation(
    reply: str, code: str, explanation: str
) -> None:
    parsed = reply_parse(reply)

    assert parsed.code == code
    assert parsed.explanation == explanation


# A megabyte each when `part` is 1, a quarter of it when 4.
HOSTILE_REPLIES: dict[str, Callable[[int], str]] = {
    "fences": lambda part: "```\n" * (250_000 // part),
    "code blocks and prose": lambda part: "```python\nx\n```\ny\n" * (50_000 // part),
    "blanks after a fence": lambda part: "```" + " " * (1_000_000 // part) + "x",
    "blanks after a marker": lambda part: "## **Explication" + " " * (1_000_000 // part) + "x",
    "blanks before a marker": lambda part: " " * (1_000_000 // part) + "Explication x",
    "brackets": lambda part: "[" * (1_000_000 // part),
}


@pytest.mark.parametrize("reply", HOSTILE_REPLIES.values(), ids=HOSTILE_REPLIES.keys())
def test_a_hostile_megabyte_of_reply_is_parsed_in_linear_time(
    reply: Callable[[int], str],
) -> None:
    assert_linear_time(reply, reply_parse)
