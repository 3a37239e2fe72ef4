"""Variant notation: one grammar for the ``change`` of an alteration.

``parse_change(raw, gene)`` turns what a report says (``p.(Gly12Cys)``,
``c.34G>T``, ``exon 19 deletion``, ``FGFR2::BICC1``) into a :class:`Change`
with one canonical spelling, or raises :class:`~regimen.errors.VocabularyError`
naming the value and the accepted forms. Nothing is passed through unparsed.

Why a grammar of our own and not biocommons ``hgvs``: ``hgvs`` parses full
HGVS expressions but pulls in a sequence-data stack (bioutils, parsley,
psycopg2 for its UTA back end, ...) and does not understand what tumour
reports actually write (``exon 19 deletion``, ``V600``, ``FGFR2-BICC1 fusion``,
``X123_splice``). The protein subset needed here is small, is anchored regular
expressions compiled once, and has its own tests (``tests/test_notation.py``).

Text first
    NFKC-normalised (full-width ``Ｇ１２Ｃ`` becomes ``G12C``), stripped; then any
    character that is still not printable ASCII (zero-width space, bidi
    override, Cyrillic ``С`` U+0421, en dash) is refused with its code point,
    name and position, because a lookalike silently stops a rule matching.

Canonical spellings (HGVS protein nomenclature, one-letter codes, no ``p.``)
    ===============  =======================================  ======================
    kind             accepted (examples)                      canonical text
    ===============  =======================================  ======================
    missense         G12C, Gly12Cys, p.(Gly12Cys), p.G12C     ``G12C``
    nonsense         Q37*, Gln37Ter, Q37X                     ``Q37*``
    synonymous       G12=, Gly12=, G12G                       ``G12=``
    frameshift       R97fs, R97Pfs*23, Arg97ProfsTer23        ``R97Pfs*23``, ``R97fs``
    deletion         E746del, E746_A750del                    ``E746_A750del``
    duplication      A767dup, A767_V769dup                    ``A767_V769dup``
    insertion        D770_N771insSVD, Asp770_Asn771insSerValAsp  ``D770_N771insSVD``
    delins           E746_S752delinsV, L858delinsRS           ``E746_S752delinsV``
    extension        *110Qext*17, Ter110GlnextTer17, M1ext-5  ``*110Qext*17``
    start-loss       M1?, Met1?                               ``M1?``
    codon            V600 (amino acid not stated)             ``V600``
    splice           X963_splice, D1010_splice, splice site   ``X963_splice``, ``splice site``
    exon             exon 19 deletion, exon19del, ex19del,    ``exon 19 deletion``,
                     exon 20 ins, exons 2-4 mutation,         ``exon 2-4 mutation``,
                     exon 14 skipping                         ``exon 14 skipping``
    fusion           FGFR2::BICC1, FGFR2-BICC1 fusion, fusion ``FGFR2::BICC1``, ``fusion``
    ===============  =======================================  ======================

    A change may repeat its own gene (``KRAS G12C``, ``KRAS:c.34G>T`` filed under KRAS);
    the gene is dropped. An alteration type written as the change (``amplification``,
    ``wild-type``) is refused with the ``type:`` to write instead.
    ``X`` as an alternate residue means a stop (old HGVS), as it did before.
    A frameshift's ``fsTer12`` is written ``fs*12``; ``fs*?`` becomes ``fs``.
    Three-letter codes are accepted in any case; an inserted sequence is read
    as three-letter codes only when written in title case (``insSerValAsp``),
    otherwise one letter per residue (``insSVD``, ``insSER`` = S, E, R).
    A missense with the same residue (``G12G``) is the synonymous ``G12=``.
    Decisions: a bare codon (``V600``) is accepted as kind ``codon`` ("a change
    at codon 600, amino acid not stated"); it never matches a rule written for
    ``V600E``. Splice changes are accepted in protein form (``X963_splice``, the
    cBioPortal/OncoKB spelling) or as ``splice site``/``exon 14 skipping``; an
    intronic coding-DNA change (``c.3028+1G>A``) and ``p.?`` are refused with a
    request for one of those forms.

Coding DNA and genomic notation
    ``c.`` changes are interpreted only through ``reference/hotspots.tsv``, a
    cited table of hotspot substitutions (KRAS, NRAS, BRAF, PIK3CA, EGFR
    ectodomain) on one RefSeq transcript per gene, and only when the gene is
    given; ``NM_004985.5:c.34G>T`` is accepted when the accession matches the
    table's. Every other ``c.`` and every ``g.``/``m.``/``n.``/``r.`` change is
    refused with a message asking for the protein change.

Alteration types a change implies (:func:`implied_type`)
    a fusion (``A::B``) implies ``fusion``; every other change implies
    ``mutation``. :func:`check_type` refuses a contradiction: any change with
    ``wild-type``; a change with ``amplification``, ``loss``, ``overexpression``
    or ``promoter-methylation``; a fusion written with ``mutation`` or a
    non-fusion change written with ``fusion``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from ..errors import VocabularyError
from ..io.resources import data_dir
from ..models import Model

Kind = Literal[
    "missense", "nonsense", "synonymous", "frameshift", "deletion", "insertion", "delins",
    "duplication", "extension", "start-loss", "codon", "splice", "exon", "fusion",
]
SourceNotation = Literal["protein", "coding-dna", "exon", "fusion"]

ACCEPTED_FORMS = (
    "accepted forms: protein changes such as G12C, p.Gly12Cys, p.(Gly12Cys), Q37*, G12=, "
    "R97fs, R97Pfs*23, E746_A750del, A767_V769dup, D770_N771insSVD, E746_S752delinsV, "
    "*110Qext*17, M1?, V600 (codon only), X963_splice; exon findings such as "
    "'exon 19 deletion', 'exon 20 insertion', 'exon 2-4 mutation', 'exon 14 skipping'; "
    "fusions such as FGFR2::BICC1 or 'FGFR2-BICC1 fusion'"
)

_THREE_TO_ONE: dict[str, str] = {
    "ALA": "A", "ARG": "R", "ASN": "N", "ASP": "D", "CYS": "C", "GLN": "Q", "GLU": "E",
    "GLY": "G", "HIS": "H", "ILE": "I", "LEU": "L", "LYS": "K", "MET": "M", "PHE": "F",
    "PRO": "P", "SER": "S", "THR": "T", "TRP": "W", "TYR": "Y", "VAL": "V", "SEC": "U",
    "TER": "*",
}
ONE_TO_THREE: dict[str, str] = {
    one: three.title() for three, one in _THREE_TO_ONE.items() if one != "*"
} | {"*": "Ter"}
_ONE = "ACDEFGHIKLMNPQRSTVWYU"
_THREE_RES = "|".join(k for k in _THREE_TO_ONE if k != "TER")
# A residue: three-letter code (any case) or one letter; a stop: *, Ter or X.
_AA = rf"(?:{_THREE_RES}|[{_ONE}])"
_STOP = r"(?:\*|TER|X)"
_POS = r"[1-9][0-9]*"
_SEQ = rf"(?:(?:{_THREE_RES})+|[{_ONE}]+)"

class _Lazy:
    """A regular expression compiled on first use, so importing regimen stays cheap."""

    __slots__ = ("_compiled", "_flags", "_source")

    def __init__(self, source: str, flags: int = 0) -> None:
        self._source = source
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._source, self._flags)
        return self._compiled

    def match(self, text: str) -> re.Match[str] | None:
        return self.pattern.match(text)

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.pattern.fullmatch(text)

    def sub(self, repl: str, text: str, count: int = 0) -> str:
        return self.pattern.sub(repl, text, count=count)


_I = re.IGNORECASE
_ASCII_SPACE = " \t\r\n"
_TITLE_SEQ = _Lazy(r"(?:[A-Z][a-z]{2})+")
_PREFIX = _Lazy(r"^(?:NP_[0-9]+(?:\.[0-9]+)?:)?p\.", _I)
_MISSENSE = _Lazy(rf"^(?P<ref>{_AA})(?P<pos>{_POS})(?P<alt>{_AA}|{_STOP}|=)$", _I)
_CODON = _Lazy(rf"^(?P<ref>{_AA})(?P<pos>{_POS})$", _I)
_START_LOSS = _Lazy(rf"^(?P<ref>{_AA})(?P<pos>{_POS})\?$", _I)
_FRAMESHIFT = _Lazy(
    rf"^(?P<ref>{_AA})(?P<pos>{_POS})(?P<alt>{_AA})?FS(?:{_STOP}(?P<stop>{_POS}|\?))?$", _I
)
_RANGE = rf"(?P<ref>{_AA})(?P<pos>{_POS})(?:_(?P<ref2>{_AA})(?P<pos2>{_POS}))?"
_DELDUP = _Lazy(rf"^{_RANGE}(?P<op>DEL|DUP)$", _I)
_INS = _Lazy(rf"^{_RANGE}(?P<op>DELINS|INS)(?P<seq>{_SEQ}(?:{_STOP})?|{_STOP})$", _I)
_EXT_C = _Lazy(rf"^{_STOP}(?P<pos>{_POS})(?P<alt>{_AA})EXT{_STOP}(?P<stop>{_POS}|\?)$", _I)
_EXT_N = _Lazy(rf"^(?P<ref>{_AA})1EXT-(?P<stop>{_POS})$", _I)
_SPLICE = _Lazy(rf"^(?P<ref>{_AA}|X)(?P<pos>{_POS})_SPLICE$", _I)
_SPLICE_TEXT = _Lazy(r"^splice(?:[ -]site)?(?: (?:mutation|variant|alteration))?$", _I)
_EXON = _Lazy(
    r"^(?:exons?|ex)\s*(?P<a>[1-9][0-9]*)(?:\s*(?:-|to)\s*(?P<b>[1-9][0-9]*))?\s*"
    r"(?P<event>deletions?|del|insertions?|ins|duplications?|dup|skipping|skip|"
    r"mutations?|mut|alterations?|delins)$",
    _I,
)
_EVENTS = {
    "del": "deletion", "deletion": "deletion", "deletions": "deletion",
    "ins": "insertion", "insertion": "insertion", "insertions": "insertion",
    "dup": "duplication", "duplication": "duplication", "duplications": "duplication",
    "skip": "skipping", "skipping": "skipping", "delins": "delins",
    "mut": "mutation", "mutation": "mutation", "mutations": "mutation",
    "alteration": "mutation", "alterations": "mutation",
}
_SYMBOL = r"[A-Z][A-Z0-9]*(?:[-.][A-Z0-9]+)*"
_FUSION_HGNC = _Lazy(rf"^(?P<a>{_SYMBOL})::(?P<b>{_SYMBOL})(?:\s+fusion)?$", _I)
_FUSION_DASH = _Lazy(r"^(?P<a>[A-Z][A-Z0-9]*)[-/](?P<b>[A-Z][A-Z0-9]*)\s+fusion$", _I)
_FUSION_ONE = _Lazy(rf"^(?:(?P<a>{_SYMBOL})\s+)?(?:fusion|rearrangement)$", _I)
_CDNA = _Lazy(r"^(?:(?P<tx>N[MR]_[0-9]+)(?:\.(?P<ver>[0-9]+))?:)?(?P<c>c\.\S+)$")
_OTHER_DNA = _Lazy(r"^(?:N[CGMRT]_[0-9]+(?:\.[0-9]+)?:)?(?P<kind>[gmnr])\.", _I)
_DNA_KINDS = {"g": "genomic (g.)", "m": "mitochondrial (m.)", "n": "non-coding (n.)",
              "r": "RNA (r.)"}
_CDNA_ANY = _Lazy(r"^(?:N[MR]_[0-9]+(?:\.[0-9]+)?:)?c\.", _I)

# What people write in ``change`` when they mean the alteration ``type``.
_TYPE_WORDS = {
    "amplification": "amplification", "amplified": "amplification", "amp": "amplification",
    "loss": "loss", "homozygous deletion": "loss", "deleted": "loss",
    "wild-type": "wild-type", "wild type": "wild-type", "wildtype": "wild-type",
    "wt": "wild-type", "overexpression": "overexpression", "overexpressed": "overexpression",
    "methylation": "promoter-methylation", "promoter methylation": "promoter-methylation",
    "promoter-methylation": "promoter-methylation", "methylated": "promoter-methylation",
    "mutation": "mutation", "mutated": "mutation", "mutant": "mutation",
}

# Lookalikes people paste from PDFs and other keyboards: shown as a hint only.
_LOOKALIKE = {
    "\u0410": "A", "\u0412": "B", "\u0421": "C", "\u0415": "E", "\u041d": "H", "\u041a": "K",
    "\u041c": "M", "\u041e": "O", "\u0420": "P", "\u0422": "T", "\u0425": "X", "\u0430": "a",
    "\u0441": "c", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0445": "x", "\u0443": "y",
    "\u0391": "A", "\u0392": "B", "\u0395": "E", "\u0396": "Z", "\u0397": "H", "\u0399": "I",
    "\u039a": "K", "\u039c": "M", "\u039d": "N", "\u039f": "O", "\u03a1": "P", "\u03a4": "T",
    "\u03a5": "Y", "\u03a7": "X", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
    "\u2014": "-", "\u2212": "-", "\u2217": "*", "\u2019": "'",
}


class Change(Model):
    """One parsed ``change``; ``text`` is the canonical spelling rules match on."""

    text: str
    kind: Kind
    source_notation: SourceNotation
    original: str
    position: int | None = None
    end: int | None = None
    ref: str | None = None
    alt: str | None = None
    stop: int | None = None
    exon: tuple[int, int] | None = None
    event: str | None = None
    fusion: tuple[str, str] | None = None
    partner: str | None = None
    transcript: str | None = None


class HotspotRow(NamedTuple):
    """One row of ``reference/hotspots.tsv``."""

    gene: str
    transcript: str
    c_change: str
    p_change: str
    source: str


def parse_change(raw: str, gene: str | None = None) -> Change:
    """Parse one ``change`` value; raise VocabularyError for anything else.

    Memoised on ``(raw, gene)`` (a :class:`Change` is immutable): a profile validates
    each change more than once, and a ctDNA series names the same variants in every draw.
    A refused value is parsed again each time, so its error is raised again."""
    if isinstance(raw, str) and (gene is None or isinstance(gene, str)):
        return _parse_change_memo(raw, gene)
    return _parse_change(raw, gene)


def _parse_change(raw: str, gene: str | None = None) -> Change:
    if not isinstance(raw, str):
        raise VocabularyError(f"change must be text, got {type(raw).__name__}")
    text = clean_text(raw)
    if not text:
        raise VocabularyError(f"change is empty; {ACCEPTED_FORMS}")
    gene = gene.strip() if gene else None
    if gene:
        own = re.match(rf"{re.escape(gene)}(?:\s+|:(?!:))", text, re.IGNORECASE)
        if own and text[own.end():]:
            text = text[own.end():].strip()
    if text.lower() in _TYPE_WORDS:
        kind = _TYPE_WORDS[text.lower()]
        raise VocabularyError(
            f"change {raw!r} is an alteration type, not a change; write 'type: {kind}' "
            "and leave the change out"
        )
    if _CDNA_ANY.match(text):
        return _coding_dna(text, raw, gene)
    other = _OTHER_DNA.match(text)
    if other:
        raise VocabularyError(
            f"change {raw!r} is {_DNA_KINDS[other.group('kind').lower()]} notation, which "
            "regimen does not map to a protein change; write the protein change "
            "(e.g. G12C or p.Gly12Cys) as the report states it"
        )
    change = (
        _protein(text, raw)
        or _exon(text, raw)
        or _fusion(text, raw, gene)
        or _splice_text(text, raw)
    )
    if change is None:
        raise VocabularyError(f"change {raw!r} is not a recognised variant notation; "
                              f"{ACCEPTED_FORMS}")
    return change


_parse_change_memo = lru_cache(maxsize=8192)(_parse_change)


def clean_text(raw: str) -> str:
    """NFKC, trim, collapse spaces; refuse what is still not printable ASCII.

    A refused character is reported with its code point, name and 1-based position
    in the NFKC-normalised text.
    """
    text = unicodedata.normalize("NFKC", raw)
    lead = len(text) - len(text.lstrip(_ASCII_SPACE))
    for index, char in enumerate(text.strip(_ASCII_SPACE), start=lead + 1):
        if not " " <= char <= "~":
            raise VocabularyError(_bad_character(raw, char, index))
    return " ".join(text.split())


def _bad_character(raw: str, char: str, index: int) -> str:
    code = f"U+{ord(char):04X}"
    name = unicodedata.name(char, "")
    label = f"character {code} {name}".rstrip() if name else f"character {code}"
    category = unicodedata.category(char)
    if category in ("Cf", "Zl", "Zp") or category.startswith("C"):
        fix = "delete it (an invisible or control character, often copied from a PDF or web page)"
    elif char in _LOOKALIKE:
        ascii_char = _LOOKALIKE[char]
        fix = f"it looks like {ascii_char!r}; retype it as the plain ASCII {ascii_char!r}"
    else:
        fix = "retype the value with plain ASCII letters, digits and symbols"
    return f"change {raw!r} contains {label} at position {index}; {fix}"


# -- protein -----------------------------------------------------------------------------------

def _one(token: str) -> str:
    """One-letter code of a residue token (three-letter any case, one letter, or a stop)."""
    upper = token.upper()
    if upper in ("*", "X", "TER"):
        return "*"
    if len(upper) == 3:
        return _THREE_TO_ONE[upper]
    return upper


def _sequence(token: str) -> str:
    """Inserted residues: title-case three-letter codes, else one letter each."""
    if token in ("*", "X") or token.lower() == "ter":
        return "*"
    stop = ""
    if token.endswith(("*", "X")):
        token, stop = token[:-1], "*"
    elif token.endswith("Ter") and _TITLE_SEQ.fullmatch(token):
        token, stop = token[:-3], "*"
    if _TITLE_SEQ.fullmatch(token) and all(
        token[i:i + 3].upper() in _THREE_TO_ONE for i in range(0, len(token), 3)
    ):
        return "".join(_one(token[i:i + 3]) for i in range(0, len(token), 3)) + stop
    upper = token.upper()
    if not re.fullmatch(rf"[{_ONE}]+", upper):
        raise VocabularyError(f"inserted sequence {token!r} is not a sequence of amino acids")
    return upper + stop


def _protein(text: str, raw: str) -> Change | None:
    body = _PREFIX.sub("", text, count=1)
    prefixed = body != text
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1]
    if body in ("?", "0", "0?", "="):
        if prefixed:
            raise VocabularyError(
                f"change {raw!r} gives no protein consequence; write the protein change, "
                "the exon event (e.g. 'exon 14 skipping') or 'splice site'"
            )
        return None
    if " " in body:
        return None

    def made(kind: Kind, canonical: str, **fields: Any) -> Change:
        return Change(text=canonical, kind=kind, source_notation="protein", original=raw,
                      **fields)

    m = _MISSENSE.match(body)
    if m:
        ref, pos, alt = _one(m["ref"]), int(m["pos"]), m["alt"]
        if alt == "=" or _one(alt) == ref:
            return made("synonymous", f"{ref}{pos}=", position=pos, ref=ref, alt=ref)
        alt1 = _one(alt)
        kind: Kind = "nonsense" if alt1 == "*" else "missense"
        return made(kind, f"{ref}{pos}{alt1}", position=pos, ref=ref, alt=alt1)
    m = _START_LOSS.match(body)
    if m:
        ref, pos = _one(m["ref"]), int(m["pos"])
        if ref != "M" or pos != 1:
            raise VocabularyError(
                f"change {raw!r}: '?' after a residue is only used for loss of the start codon "
                "(M1? or Met1?); write the protein change"
            )
        return made("start-loss", "M1?", position=1, ref="M")
    m = _CODON.match(body)
    if m:
        ref, pos = _one(m["ref"]), int(m["pos"])
        return made("codon", f"{ref}{pos}", position=pos, ref=ref)
    m = _FRAMESHIFT.match(body)
    if m:
        ref, pos = _one(m["ref"]), int(m["pos"])
        alt = _one(m["alt"]) if m["alt"] else None
        stop = int(m["stop"]) if m["stop"] and m["stop"] != "?" else None
        canonical = f"{ref}{pos}{alt or ''}fs" + (f"*{stop}" if stop else "")
        return made("frameshift", canonical, position=pos, ref=ref, alt=alt, stop=stop)
    m = _DELDUP.match(body)
    if m:
        first = _range(m, raw)
        op = m["op"].lower()
        return made("deletion" if op == "del" else "duplication", f"{first}{op}",
                    position=int(m["pos"]), end=_end(m), ref=_one(m["ref"]))
    m = _INS.match(body)
    if m:
        first = _range(m, raw)
        op = m["op"].lower()
        seq = _sequence(m["seq"])
        if op == "ins":
            if m["pos2"] is None or int(m["pos2"]) != int(m["pos"]) + 1:
                raise VocabularyError(
                    f"change {raw!r}: an insertion names the two flanking residues, e.g. "
                    "D770_N771insSVD"
                )
            kind = "insertion"
        else:
            kind = "delins"
        return made(kind, f"{first}{op}{seq}", position=int(m["pos"]), end=_end(m),
                    ref=_one(m["ref"]), alt=seq)
    m = _EXT_C.match(body)
    if m:
        pos, alt = int(m["pos"]), _one(m["alt"])
        stop = None if m["stop"] == "?" else int(m["stop"])
        canonical = f"*{pos}{alt}ext*" + (str(stop) if stop else "?")
        return made("extension", canonical, position=pos, ref="*", alt=alt, stop=stop)
    m = _EXT_N.match(body)
    if m and _one(m["ref"]) == "M":
        stop = int(m["stop"])
        return made("extension", f"M1ext-{stop}", position=1, ref="M", stop=stop)
    m = _SPLICE.match(body)
    if m:
        ref, pos = _one(m["ref"]), int(m["pos"])
        ref = "X" if ref == "*" else ref
        return made("splice", f"{ref}{pos}_splice", position=pos, ref=ref)
    return None


def _end(m: re.Match[str]) -> int | None:
    return int(m["pos2"]) if m["pos2"] else None


def _range(m: re.Match[str], raw: str) -> str:
    """The canonical ``E746`` or ``E746_A750`` span of a match; refuse a reversed range."""
    first = f"{_one(m['ref'])}{m['pos']}"
    if m["pos2"] is None:
        return first
    if int(m["pos2"]) <= int(m["pos"]):
        raise VocabularyError(
            f"change {raw!r}: a range runs from the lower position to the higher one, "
            "e.g. E746_A750del"
        )
    return f"{first}_{_one(m['ref2'])}{m['pos2']}"


# -- exon, fusion, splice text -----------------------------------------------------------------

def _exon(text: str, raw: str) -> Change | None:
    m = _EXON.match(text)
    if not m:
        return None
    a = int(m["a"])
    b = int(m["b"]) if m["b"] else a
    if b < a:
        raise VocabularyError(f"change {raw!r}: write the exon range low to high, e.g. exon 2-4")
    event = _EVENTS[m["event"].lower()]
    span = str(a) if a == b else f"{a}-{b}"
    return Change(text=f"exon {span} {event}", kind="exon", source_notation="exon",
                  original=raw, exon=(a, b), event=event)


def _fusion(text: str, raw: str, gene: str | None) -> Change | None:
    m = _FUSION_HGNC.match(text) or _FUSION_DASH.match(text)
    if m:
        pair = (_symbol(m["a"], gene), _symbol(m["b"], gene))
        if pair[0].upper() == pair[1].upper():
            raise VocabularyError(f"change {raw!r}: a fusion joins two different genes")
        partner = None
        if gene is not None:
            if gene not in pair:
                raise VocabularyError(
                    f"change {raw!r} is a fusion of {pair[0]} and {pair[1]}, but it is filed "
                    f"under {gene}; file it under one of the two genes"
                )
            partner = pair[1] if pair[0] == gene else pair[0]
        return Change(text=f"{pair[0]}::{pair[1]}", kind="fusion", source_notation="fusion",
                      original=raw, fusion=pair, partner=partner)
    m = _FUSION_ONE.match(text)
    if m:
        named = m["a"]
        if named is not None and gene is not None and named.upper() != gene.upper():
            raise VocabularyError(
                f"change {raw!r} names {named}, but it is filed under {gene}; "
                "write the fusion as GENE1::GENE2 under one of its genes"
            )
        return Change(text="fusion", kind="fusion", source_notation="fusion", original=raw)
    return None


def _symbol(written: str, gene: str | None) -> str:
    """A fusion side as written, or the alteration's own gene symbol when it names it."""
    return gene if gene is not None and written.upper() == gene.upper() else written


def _splice_text(text: str, raw: str) -> Change | None:
    if _SPLICE_TEXT.match(text):
        return Change(text="splice site", kind="splice", source_notation="exon", original=raw)
    return None


# -- coding DNA ------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def hotspots() -> dict[tuple[str, str], HotspotRow]:
    """The shipped c.->p. hotspot table, keyed by (gene, c. change); loaded once."""
    path = data_dir("reference") / "hotspots.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        lines = [line for line in handle if line.strip() and not line.startswith("#")]
    rows: dict[tuple[str, str], HotspotRow] = {}
    for record in csv.DictReader(lines, delimiter="\t"):
        row = HotspotRow(**record)
        rows[(row.gene, row.c_change)] = row
    return rows


def _interpreted(gene: str | None) -> str:
    rows = hotspots().values()
    if gene is not None:
        own = [row.c_change + f" ({row.p_change})" for row in rows if row.gene == gene]
        if own:
            return f"for {gene} the interpreted c. changes are " + ", ".join(own)
    genes = sorted({row.gene for row in rows})
    return "c. changes are interpreted only for hotspot substitutions of " + ", ".join(genes)


def _coding_dna(text: str, raw: str, gene: str | None) -> Change:
    ask = "write the protein change (e.g. G12C or p.Gly12Cys) as the report states it"
    m = _CDNA.match(text)
    if m is None:
        raise VocabularyError(f"change {raw!r} is not a coding-DNA change regimen can read; "
                              f"{ask}")
    if gene is None:
        raise VocabularyError(
            f"change {raw!r} is coding-DNA notation and no gene is given to interpret it; {ask}"
        )
    c_change = m["c"]
    row = hotspots().get((gene, c_change))
    if row is None and re.match(r"^c\.[*-]?[0-9]+[+-][0-9]", c_change):
        raise VocabularyError(
            f"change {raw!r} ({gene}) is an intronic (splice-region) coding-DNA change; "
            "write its consequence instead: the exon event (e.g. 'exon 14 skipping'), "
            "the protein splice form (e.g. X1010_splice) or 'splice site'"
        )
    if row is None:
        raise VocabularyError(
            f"change {raw!r} ({gene}) is coding-DNA notation that regimen does not map to a "
            f"protein change; {ask} ({_interpreted(gene)})"
        )
    if m["tx"] is not None:
        accession = row.transcript.split(".")[0]
        if m["tx"] != accession:
            raise VocabularyError(
                f"change {raw!r} is on transcript {m['tx']}, but regimen maps {gene} "
                f"c. changes on {row.transcript} only; {ask}"
            )
    protein = _protein(row.p_change, raw)
    if protein is None:  # pragma: no cover - the shipped table is checked by the tests
        raise VocabularyError(f"hotspot table row {row.p_change!r} is not a protein change")
    return protein.model_copy(update={"source_notation": "coding-dna",
                                      "transcript": row.transcript})


# -- alteration type --------------------------------------------------------------------------

_NON_SEQUENCE_TYPES = frozenset({"amplification", "loss", "overexpression", "promoter-methylation"})


def implied_type(change: Change) -> str:
    """The alteration type a change implies: ``fusion`` for fusions, else ``mutation``."""
    return "fusion" if change.kind == "fusion" else "mutation"


def check_type(change: Change, alteration_type: str | None) -> str:
    """Return the alteration type to use; raise VocabularyError on a contradiction."""
    implied = implied_type(change)
    if alteration_type is None or alteration_type == implied:
        return implied
    if alteration_type == "wild-type":
        reason = "wild-type means no change was found; drop the change or the type"
    elif alteration_type in _NON_SEQUENCE_TYPES:
        reason = (f"a {change.kind} change is a sequence finding, not {alteration_type}; "
                  f"list the {alteration_type} as a separate alteration without a change")
    else:
        reason = f"{change.text} is a {implied}; write type: {implied} or leave type out"
    raise VocabularyError(
        f"change {change.original!r} contradicts type {alteration_type!r}: {reason}"
    )
