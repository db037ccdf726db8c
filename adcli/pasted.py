"""Tables and lines as text to paste into notes: GitHub Markdown and LaTeX.

The LaTeX is ASCII only (``latex_text``), so plain pdflatex takes it with no package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .tables import Column


def html(columns: list[Column], rows: list[list[str]]) -> str:
    """An HTML table (Jupyter's display): numbers right-aligned, line breaks kept."""
    from html import escape

    def cell(tag: str, text: str, right: bool) -> str:
        align = ' style="text-align: right"' if right else ' style="text-align: left"'
        return f"<{tag}{align}>{escape(text).replace(chr(10), '<br>')}</{tag}>"

    head = "".join(cell("th", c.title, c.right) for c in columns)
    body = "".join("<tr>" + "".join(cell("td", v, c.right) for c, v in zip(columns, r)) + "</tr>\n"
                   for r in rows)  # fmt: skip
    return (
        f'<table class="adcli">\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}</tbody>\n</table>\n"
    )


def markdown(columns: list[Column], rows: list[list[str]]) -> str:
    """A GitHub table; line breaks inside a cell become <br>, pipes are escaped."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", "<br>")

    lines = ["| " + " | ".join(cell(c.title) for c in columns) + " |"]
    lines.append("|" + "|".join("---:" if c.right else "---" for c in columns) + "|")
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}",
    # pdflatex's default (OT1) fonts print < > | as ¡ ¿ —, and a "[" just after a \\
    # would be read as the \\'s optional argument
    "<": "$<$", ">": "$>$", "|": "$|$", "[": "{[}",
}  # fmt: skip
_LATEX_MATH = {
    "∂": r"\partial", "∇": r"\nabla", "‖": r"\|", "·": r"\cdot", "⋅": r"\cdot", "∙": r"\cdot",
    "≤": r"\le", "≥": r"\ge", "…": r"\ldots", "ẋ": r"\dot{x}", "→": r"\to", "←": r"\leftarrow",
    "×": r"\times", "÷": r"\div", "±": r"\pm", "≈": r"\approx", "≠": r"\ne", "∞": r"\infty",
    "√": r"\surd", "∗": r"\ast", "•": r"\bullet", "°": r"^\circ", "ℓ": r"\ell", "∘": r"\circ",
    "∈": r"\in", "∑": r"\sum", "∏": r"\prod", "∫": r"\int",
    # Greek symbol variants, looked up before NFKD turns them into the plain letters
    "ϵ": r"\epsilon", "ϑ": r"\vartheta", "ϕ": r"\phi", "ϖ": r"\varpi", "ϱ": r"\varrho",
    "ς": r"\varsigma",
}  # fmt: skip
_LATEX_PLAIN = {
    "−": "-", "‐": "-", "‑": "-", "′": "'", "↑": "", "—": "--", "–": "--", "⁄": "/", "∕": "/",
    "‘": "`", "’": "'", "“": "``", "”": "''", "¡": "!`", "¿": "?`", "§": r"\S{}",
    "¶": r"\P{}", "©": r"\copyright{}", "£": r"\pounds{}", "ß": r"\ss{}", "æ": r"\ae{}",
    "Æ": r"\AE{}", "œ": r"\oe{}", "Œ": r"\OE{}", "ø": r"\o{}", "Ø": r"\O{}", "ł": r"\l{}",
    "Ł": r"\L{}", "ı": r"\i{}", "ȷ": r"\j{}",
}  # fmt: skip
# Unicode's names (LAMDA is its spelling); ε and φ are LaTeX's \varepsilon and \varphi
# (unicode-math's reading: \epsilon and \phi are the other shapes, ϵ and ϕ)
_GREEK = {
    "alpha": "", "beta": "", "gamma": "", "delta": "", "epsilon": "varepsilon", "zeta": "",
    "eta": "", "theta": "", "iota": "", "kappa": "", "lamda": "lambda", "mu": "", "nu": "",
    "xi": "", "omicron": "", "pi": "", "rho": "", "sigma": "", "tau": "", "upsilon": "",
    "phi": "varphi", "chi": "", "psi": "", "omega": "",
}  # fmt: skip
# capitals LaTeX lacks, because they look like these Latin ones
_GREEK_AS_LATIN = {
    "alpha": "A", "beta": "B", "epsilon": "E", "zeta": "Z", "eta": "H", "iota": "I",
    "kappa": "K", "mu": "M", "nu": "N", "omicron": "O", "rho": "P", "tau": "T", "chi": "X",
}  # fmt: skip
# no ogonek: OT1 has no \k, so ą is a plain a
_TEXT_ACCENTS = {
    "\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u",
    "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0323": "d",
    "\u0327": "c", "\u0331": "b",
}  # fmt: skip
_BELOW = {"\u0323", "\u0327", "\u0331"}  # accents under the letter: i keeps its dot
_MATH_ACCENTS = {
    "\u0300": "grave", "\u0301": "acute", "\u0302": "hat", "\u0303": "tilde", "\u0304": "bar",
    "\u0306": "breve", "\u0307": "dot", "\u0308": "ddot", "\u030a": "mathring", "\u030c": "check",
}  # fmt: skip


def latex_text(text: str) -> str:
    r"""Plain text for LaTeX, in ASCII only, so plain pdflatex takes it with no package.

    Special characters are escaped; the symbols the tables use (∂, ∇, ‖, ·, ẋ …) and
    Greek letters are math (θ → ``$\theta$``, Θ → ``$\Theta$``; a capital LaTeX lacks
    is its Latin twin, Α → ``A``); an accented letter is the letter with LaTeX's
    accent (é → ``\'{e}``), other characters go through their compatibility
    decomposition (ﬁ → ``fi``, ² → ``$^{2}$``), and whatever is left — an emoji, a
    CJK character — is its code point in typewriter type, ``\texttt{U+1F600}``.
    """
    import unicodedata

    units: list[list] = []  # [math?, LaTeX, a letter an accent may sit on?]
    todo = [(ch, False) for ch in reversed(text)]  # a stack; True: from a decomposition
    while todo:
        ch, decomposed = todo.pop()
        if ch.isascii():
            units.append([False, _LATEX_SPECIAL.get(ch, ch), ch.isalpha()])
        elif ch in _LATEX_MATH:
            units.append([True, _LATEX_MATH[ch], False])
        elif ch in _LATEX_PLAIN:
            units.append([False, _LATEX_PLAIN[ch], False])
        elif unicodedata.category(ch) == "Mn":
            _accent(units, ch, decomposed)
        elif greek := _greek(unicodedata.name(ch, "")):
            units.append([*greek, True])
        elif script := _script(ch, unicodedata):
            units.append([True, script, False])
        elif (parts := unicodedata.normalize("NFKD", ch)) != ch:
            todo += [(p, True) for p in reversed(parts)]
        else:
            units.append([False, rf"\texttt{{U+{ord(ch):04X}}}", False])
    out = "".join(f"${body}$" if math else body for math, body, _ in units)
    return out.replace("--", "-{}-")  # not an en dash: --steps stays an option


def _greek(name: str) -> tuple[bool, str] | None:
    """A Greek letter, by its Unicode name, as (math?, LaTeX)."""
    case, _, letter = name.removeprefix("GREEK ").partition(" LETTER ")
    letter = letter.lower()
    if not name.startswith("GREEK ") or letter not in _GREEK:
        return None
    command = _GREEK[letter] or letter
    if case == "SMALL":
        return (True, "o") if letter == "omicron" else (True, "\\" + command)
    if letter in _GREEK_AS_LATIN:
        return False, _GREEK_AS_LATIN[letter]
    return True, "\\" + command.removeprefix("var").capitalize()


def _script(ch: str, unicodedata) -> str | None:
    """A superscript or subscript character as math (``^{2}``, ``_{n}``), if it is one."""
    tag, _, code = unicodedata.decomposition(ch).partition(" ")
    if tag not in ("<super>", "<sub>"):
        return None
    inner = chr(int(code, 16))
    if inner == "−":
        inner = "-"
    elif greek := _greek(unicodedata.name(inner, "")):
        inner = greek[1]
    elif not (inner.isascii() and (inner.isalnum() or inner in "+-=()")):
        return None
    return ("^" if tag == "<super>" else "_") + "{" + inner + "}"


def _accent(units: list[list], mark: str, decomposed: bool) -> None:
    """Put a combining mark on the character before it; a mark nothing can carry is
    left out (the letter stays, plain)."""
    if not units:
        return
    math, body, letter = units[-1]
    if mark == "\u0307" and not decomposed and (math or body.isalnum()):
        units[-1] = [True, rf"\dot{{{body}}}", False]  # a tangent's dot after a name: ẋ
    elif math and letter and mark in _MATH_ACCENTS:
        units[-1][1] = rf"\{_MATH_ACCENTS[mark]}{{{body}}}"
    elif letter and not math and mark in _TEXT_ACCENTS:
        if body in ("i", "j") and mark not in _BELOW:  # dotless under an accent: í → \'{\i}
            body = "\\" + body
        units[-1][1] = rf"\{_TEXT_ACCENTS[mark]}{{{body}}}"


def latex(columns: list[Column], rows: list[list[str]]) -> str:
    """A ``tabular`` with ``\\hline`` rules (no package needed); a line break inside a
    cell becomes a nested ``tabular`` stacking the lines."""

    def cell(text: str) -> str:
        lines = [latex_text(t) for t in text.split("\n")]
        if len(lines) == 1:
            return lines[0]
        return r"\begin{tabular}[t]{@{}l@{}}" + r" \\ ".join(lines) + r"\end{tabular}"

    spec = "".join("r" if c.right else "l" for c in columns)
    lines = [rf"\begin{{tabular}}{{{spec}}}", r"\hline"]
    lines.append(" & ".join(cell(c.title) for c in columns) + r" \\")
    lines.append(r"\hline")
    lines += [" & ".join(cell(v) for v in r) + r" \\" for r in rows]
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def pasted_lines(lines: list[str], fmt: str) -> str:
    """Lines under a pasted table: Markdown hard breaks, LaTeX paragraphs, or an HTML
    paragraph with line breaks."""
    if fmt == "html":
        from html import escape

        return "<p>" + "<br>\n".join(escape(t) for t in lines) + "</p>\n"
    if fmt == "latex":
        return "\n" + "\\\\\n".join(latex_text(t) for t in lines) + "\n"
    return "\n" + "  \n".join(lines) + "\n"
