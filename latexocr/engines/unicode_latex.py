"""Characters pdfLaTeX cannot take as they are, and what to write instead.

pdfLaTeX with `inputenc` (utf8) and `fontenc` (T1) typesets ASCII, Latin-1, most of Latin
Extended-A and the usual typographic marks; everything else stops the compile with
"Unicode character … not set up for use with LaTeX". Text layers and OCR bring mathematical
symbols, Greek letters, sub/superscript digits: each is mapped to a command (the local
preamble loads amsmath, amssymb). A character without a mapping is decomposed (NFKD) when
that leaves typesettable characters, and is otherwise written as its code point, visibly —
never as '?', which would hide that something was there.
"""

from __future__ import annotations

import unicodedata

# Characters with a meaning in LaTeX source, written so they print as themselves.
LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}

_MATH = {
    # Relations
    "≤": r"\leq",
    "≥": r"\geq",
    "≦": r"\leqq",
    "≧": r"\geqq",
    "≠": r"\neq",
    "≈": r"\approx",
    "≃": r"\simeq",
    "≅": r"\cong",
    "≡": r"\equiv",
    "∼": r"\sim",
    "∝": r"\propto",
    "≪": r"\ll",
    "≫": r"\gg",
    "≺": r"\prec",
    "≻": r"\succ",
    "⊥": r"\perp",
    "∥": r"\parallel",
    "∣": r"\mid",
    "∤": r"\nmid",
    "≜": r"\triangleq",
    # Sets and logic
    "∈": r"\in",
    "∉": r"\notin",
    "∋": r"\ni",
    "⊂": r"\subset",
    "⊃": r"\supset",
    "⊆": r"\subseteq",
    "⊇": r"\supseteq",
    "⊄": r"\not\subset",
    "⊊": r"\subsetneq",
    "∪": r"\cup",
    "∩": r"\cap",
    "∖": r"\setminus",
    "∅": r"\emptyset",
    "⌀": r"\varnothing",
    "∀": r"\forall",
    "∃": r"\exists",
    "∄": r"\nexists",
    "¬": r"\neg",
    "∧": r"\wedge",
    "∨": r"\vee",
    "⊕": r"\oplus",
    "⊗": r"\otimes",
    "⊙": r"\odot",
    "ℕ": r"\mathbb{N}",
    "ℤ": r"\mathbb{Z}",
    "ℚ": r"\mathbb{Q}",
    "ℝ": r"\mathbb{R}",
    "ℂ": r"\mathbb{C}",
    "ℙ": r"\mathbb{P}",
    "ℓ": r"\ell",
    "ℏ": r"\hbar",
    "℘": r"\wp",
    "ℑ": r"\Im",
    "ℜ": r"\Re",
    "ℵ": r"\aleph",
    # Operators
    "−": "-",
    "∓": r"\mp",
    "∗": r"\ast",
    "⋅": r"\cdot",
    "∘": r"\circ",
    "◦": r"\circ",
    "∙": r"\bullet",
    "√": r"\surd",
    "∛": r"\sqrt[3]{}",
    "∞": r"\infty",
    "∑": r"\sum",
    "∏": r"\prod",
    "∐": r"\coprod",
    "∫": r"\int",
    "∬": r"\iint",
    "∭": r"\iiint",
    "∮": r"\oint",
    "∂": r"\partial",
    "∇": r"\nabla",
    "∆": r"\Delta",
    "⨆": r"\bigsqcup",
    "⨄": r"\biguplus",
    "⋁": r"\bigvee",
    "⋀": r"\bigwedge",
    "⋃": r"\bigcup",
    "⋂": r"\bigcap",
    "⨁": r"\bigoplus",
    "⨂": r"\bigotimes",
    "⊔": r"\sqcup",
    "⊎": r"\uplus",
    "⋆": r"\star",
    "†": r"\dagger",
    "‡": r"\ddagger",
    "′": r"\prime",
    "″": r"\prime\prime",
    "∠": r"\angle",
    "⌊": r"\lfloor",
    "⌋": r"\rfloor",
    "⌈": r"\lceil",
    "⌉": r"\rceil",
    "⟨": r"\langle",
    "⟩": r"\rangle",
    "∎": r"\blacksquare",
    "□": r"\square",
    "■": r"\blacksquare",
    "△": r"\triangle",
    "▽": r"\triangledown",
    "◁": r"\triangleleft",
    "▷": r"\triangleright",
    "⊲": r"\lhd",
    "⊳": r"\rhd",
    "⊿": r"\triangle",
    "⋈": r"\bowtie",
    "♣": r"\clubsuit",
    "♢": r"\diamondsuit",
    "♦": r"\diamondsuit",
    "♡": r"\heartsuit",
    "♥": r"\heartsuit",
    "♠": r"\spadesuit",
    "✓": r"\checkmark",
    "✔": r"\checkmark",
    "✗": r"\times",
    "⊢": r"\vdash",
    "⊣": r"\dashv",
    "⊨": r"\models",
    "⊘": r"\oslash",
    "⊖": r"\ominus",
    "⋄": r"\diamond",
    "⌢": r"\frown",
    "⌣": r"\smile",
    "♭": r"\flat",
    "♮": r"\natural",
    "♯": r"\sharp",
    "⨀": r"\bigodot",
    "⊓": r"\sqcap",
    "⊏": r"\sqsubset",
    "⊐": r"\sqsupset",
    "⊑": r"\sqsubseteq",
    "⊒": r"\sqsupseteq",
    "≍": r"\asymp",
    "≐": r"\doteq",
    "≔": r"\mathrel{:=}",
    # Arrows
    "↼": r"\leftharpoonup",
    "↽": r"\leftharpoondown",
    "⇁": r"\rightharpoondown",
    "→": r"\rightarrow",
    "←": r"\leftarrow",
    "↑": r"\uparrow",
    "↓": r"\downarrow",
    "↔": r"\leftrightarrow",
    "↦": r"\mapsto",
    "↪": r"\hookrightarrow",
    "⇒": r"\Rightarrow",
    "⇐": r"\Leftarrow",
    "⇔": r"\Leftrightarrow",
    "⇑": r"\Uparrow",
    "⇓": r"\Downarrow",
    "⟶": r"\longrightarrow",
    "⟵": r"\longleftarrow",
    "⟹": r"\Longrightarrow",
    "⟸": r"\Longleftarrow",
    "⟺": r"\Longleftrightarrow",
    "⟼": r"\longmapsto",
    "↗": r"\nearrow",
    "↘": r"\searrow",
    "⇀": r"\rightharpoonup",
    # Letterlike
    "Ω": r"\Omega",  # OHM SIGN
    "℧": r"\mho",
}
_GREEK_LOWER = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "o",
    "pi",
    "rho",
    "varsigma",
    "sigma",
    "tau",
    "upsilon",
    "varphi",
    "chi",
    "psi",
    "omega",
]
_GREEK_UPPER = {
    "Γ": r"\Gamma",
    "Δ": r"\Delta",
    "Θ": r"\Theta",
    "Λ": r"\Lambda",
    "Ξ": r"\Xi",
    "Π": r"\Pi",
    "Σ": r"\Sigma",
    "Υ": r"\Upsilon",
    "Φ": r"\Phi",
    "Ψ": r"\Psi",
    "Ω": r"\Omega",
}
# Greek capitals drawn like Latin ones.
_GREEK_AS_LATIN = dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX", strict=True))
_GREEK_VARIANTS = {
    "ϵ": r"\epsilon",
    "ϑ": r"\vartheta",
    "ϕ": r"\phi",
    "ϖ": r"\varpi",
    "ϱ": r"\varrho",
    "ϰ": r"\varkappa",
}

_SUPERSCRIPTS = dict(zip("⁰ⁱ⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ", "0i456789+-=()n", strict=True))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₙᵢⱼₖₘₚₜ", "0123456789+-=()aeoxnijkmpt", strict=True))

_TEXT = {
    "ﬀ": "ff",
    "ﬁ": "fi",
    "ﬂ": "fl",
    "ﬃ": "ffi",
    "ﬄ": "ffl",
    "ﬅ": "st",
    "ﬆ": "st",
    "\u2022": r"\textbullet{}",
    "\u2009": r"\,",  # thin space
    "\u202f": r"\,",  # narrow no-break space (French typography before ; : ! ?)
    "\u2007": "~",
    "\u2002": " ",
    "\u2003": r"\quad{}",
    "\u200b": "",  # zero-width space
    "\ufeff": "",
    "\u00ad": r"\-",  # soft hyphen
    "‹": r"\guilsinglleft{}",
    "›": r"\guilsinglright{}",
    "‰": r"\textperthousand{}",
    "™": r"\texttrademark{}",
    "№": r"No\,",
    "℃": r"\textdegree{}C",
    "€": r"\texteuro{}",
    "‐": "-",  # hyphen
    "‑": "-",  # non-breaking hyphen
    "‒": "--",
    "―": "---",
    "‖": r"\textbardbl{}",
    "⁄": "/",
    "µ": r"\ensuremath{\mu}",  # MICRO SIGN: \textmu needs a font most systems lack
    "\u0131": r"\i{}",
    "\u0237": r"\j{}",
}

UNICODE_TO_LATEX: dict[str, str] = {
    **{char: rf"\ensuremath{{{command}}}" for char, command in _MATH.items()},
    **{
        chr(0x3B1 + index): rf"\ensuremath{{\{name}}}" if name != "o" else "o"
        for index, name in enumerate(_GREEK_LOWER)
    },
    **{char: rf"\ensuremath{{{command}}}" for char, command in _GREEK_UPPER.items()},
    **_GREEK_AS_LATIN,
    **{char: rf"\ensuremath{{{command}}}" for char, command in _GREEK_VARIANTS.items()},
    **{char: rf"\textsuperscript{{{plain}}}" for char, plain in _SUPERSCRIPTS.items()},
    **{char: rf"\textsubscript{{{plain}}}" for char, plain in _SUBSCRIPTS.items()},
    **_TEXT,
}
# Beyond Latin-1, what T1 + utf8 typesets without help: typographic marks, and the letters
# of Latin Extended-A that inputenc's T1 definitions cover.
TYPESET_AS_IS = set("œŒ\u2019\u2018“”„\u201a–—…«»") | {
    chr(code)
    for code in range(0x100, 0x180)
    # Not in T1's utf8 table: Ħ ħ ı ĸ Ŀ ŀ ŉ Ŧ ŧ ſ.
    if code not in (0x126, 0x127, 0x131, 0x138, 0x13F, 0x140, 0x149, 0x166, 0x167, 0x17F)
}


def char_typesets(char: str) -> bool:
    return char in "\n\t" or " " <= char <= "~" or "\xa0" <= char <= "\xff" or char in TYPESET_AS_IS


def unicode_to_latex(char: str) -> str:
    """What to write in a LaTeX text for `char`, which is not ASCII-special (see latex_escape)."""
    if char in UNICODE_TO_LATEX:
        return UNICODE_TO_LATEX[char]
    if char_typesets(char):
        return char
    category = unicodedata.category(char)
    if category in ("Cc", "Cf", "Cs", "Co", "Cn") or category == "Mn":
        return ""  # control, formatting, unpaired or unassigned: nothing to show
    if category.startswith("Z"):
        return " "
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(part for part in decomposed if not unicodedata.combining(part))
    recomposed = unicodedata.normalize("NFC", decomposed)
    for candidate in (recomposed, base):
        if candidate and candidate != char and all(char_typesets(part) for part in candidate):
            return "".join(LATEX_SPECIALS.get(part, part) for part in candidate)
    return rf"\texttt{{[U+{ord(char):04X}]}}"
