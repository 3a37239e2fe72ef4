"""Variant notation grammar: accepted spellings, refusals, c. hotspots, properties."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regimen.errors import ProfileError, VocabularyError
from regimen.knowledge.notation import (
    ONE_TO_THREE,
    Change,
    check_type,
    clean_text,
    hotspots,
    implied_type,
    parse_change,
)

# (input, gene, canonical text, kind)
ACCEPTED = [
    # missense: one-letter, three-letter, p., parentheses, any case, full-width
    ("G12C", None, "G12C", "missense"),
    ("p.G12C", None, "G12C", "missense"),
    ("Gly12Cys", None, "G12C", "missense"),
    ("p.Gly12Cys", None, "G12C", "missense"),
    ("p.(Gly12Cys)", None, "G12C", "missense"),
    ("(G12C)", None, "G12C", "missense"),
    ("NP_004976.2:p.Gly12Cys", None, "G12C", "missense"),
    ("g12c", None, "G12C", "missense"),
    ("GLY12CYS", None, "G12C", "missense"),
    ("  V600E ", None, "V600E", "missense"),
    ("p.Val600Glu", None, "V600E", "missense"),
    ("\uff27\uff11\uff12\uff23", None, "G12C", "missense"),  # full-width, NFKC -> G12C
    # nonsense: *, Ter, X
    ("Q37*", None, "Q37*", "nonsense"),
    ("p.Gln37Ter", None, "Q37*", "nonsense"),
    ("Q37X", None, "Q37*", "nonsense"),
    ("p.(Arg213*)", None, "R213*", "nonsense"),
    # synonymous
    ("G12=", None, "G12=", "synonymous"),
    ("p.Gly12=", None, "G12=", "synonymous"),
    ("L858L", None, "L858=", "synonymous"),
    # frameshift
    ("R97fs", None, "R97fs", "frameshift"),
    ("p.Arg97fs", None, "R97fs", "frameshift"),
    ("R97Pfs*23", None, "R97Pfs*23", "frameshift"),
    ("p.Arg97ProfsTer23", None, "R97Pfs*23", "frameshift"),
    ("R97fsTer12", None, "R97fs*12", "frameshift"),
    ("R97fs*12", None, "R97fs*12", "frameshift"),
    ("R97fs*?", None, "R97fs", "frameshift"),
    # in-frame deletion (single and range)
    ("E746_A750del", None, "E746_A750del", "deletion"),
    ("p.Glu746_Ala750del", None, "E746_A750del", "deletion"),
    ("p.(Glu746_Ala750del)", None, "E746_A750del", "deletion"),
    ("F1088del", None, "F1088del", "deletion"),
    ("p.Phe1088del", None, "F1088del", "deletion"),
    # duplication
    ("A767_V769dup", None, "A767_V769dup", "duplication"),
    ("p.Ala767_Val769dup", None, "A767_V769dup", "duplication"),
    ("Y772dup", None, "Y772dup", "duplication"),
    # insertion
    ("D770_N771insSVD", None, "D770_N771insSVD", "insertion"),
    ("p.Asp770_Asn771insSerValAsp", None, "D770_N771insSVD", "insertion"),
    ("p.Asp770_Asn771insSER", None, "D770_N771insSER", "insertion"),
    # delins
    ("E746_S752delinsV", None, "E746_S752delinsV", "delins"),
    ("p.Glu746_Ser752delinsVal", None, "E746_S752delinsV", "delins"),
    ("L858delinsRS", None, "L858delinsRS", "delins"),
    ("p.Leu858delinsArgSer", None, "L858delinsRS", "delins"),
    # extension
    ("*110Glnext*17", None, "*110Qext*17", "extension"),
    ("p.Ter110GlnextTer17", None, "*110Qext*17", "extension"),
    ("*110Qext*17", None, "*110Qext*17", "extension"),
    ("*110Qext*?", None, "*110Qext*?", "extension"),
    ("M1ext-5", None, "M1ext-5", "extension"),
    ("p.Met1ext-5", None, "M1ext-5", "extension"),
    # start loss
    ("M1?", None, "M1?", "start-loss"),
    ("p.Met1?", None, "M1?", "start-loss"),
    # codon only
    ("V600", None, "V600", "codon"),
    ("p.Val600", None, "V600", "codon"),
    # splice
    ("X963_splice", None, "X963_splice", "splice"),
    ("D1010_splice", None, "D1010_splice", "splice"),
    ("splice site", None, "splice site", "splice"),
    ("Splice-site mutation", None, "splice site", "splice"),
    # exon-level findings
    ("exon 19 deletion", None, "exon 19 deletion", "exon"),
    ("exon19del", None, "exon 19 deletion", "exon"),
    ("ex19del", None, "exon 19 deletion", "exon"),
    ("Exon 19 del", None, "exon 19 deletion", "exon"),
    ("exon 20 insertion", None, "exon 20 insertion", "exon"),
    ("exon20ins", None, "exon 20 insertion", "exon"),
    ("exon 2-4 mutation", None, "exon 2-4 mutation", "exon"),
    ("exons 2-4 mutations", None, "exon 2-4 mutation", "exon"),
    ("exon 14 skipping", None, "exon 14 skipping", "exon"),
    ("ex14skip", None, "exon 14 skipping", "exon"),
    # fusions
    ("FGFR2::BICC1", "FGFR2", "FGFR2::BICC1", "fusion"),
    ("FGFR2-BICC1 fusion", "FGFR2", "FGFR2::BICC1", "fusion"),
    ("fgfr2::bicc1", "FGFR2", "FGFR2::bicc1", "fusion"),
    ("KIAA1549::BRAF", "BRAF", "KIAA1549::BRAF", "fusion"),
    ("fusion", "NTRK1", "fusion", "fusion"),
    ("NTRK1 fusion", "NTRK1", "fusion", "fusion"),
    # the alteration's own gene repeated in the change
    ("KRAS G12C", "KRAS", "G12C", "missense"),
    ("kras p.Gly12Cys", "KRAS", "G12C", "missense"),
    ("KRAS:c.34G>T", "KRAS", "G12C", "missense"),
    ("EGFR exon 19 deletion", "EGFR", "exon 19 deletion", "exon"),
    ("FGFR2::BICC1", "FGFR2", "FGFR2::BICC1", "fusion"),
    # coding DNA through the hotspot table
    ("c.34G>T", "KRAS", "G12C", "missense"),
    ("NM_004985.5:c.34G>T", "KRAS", "G12C", "missense"),
    ("NM_004985:c.35G>A", "KRAS", "G12D", "missense"),
    ("c.1799T>A", "BRAF", "V600E", "missense"),
    ("c.1798_1799delinsAA", "BRAF", "V600K", "missense"),
    ("c.1798_1799GT>AA", "BRAF", "V600K", "missense"),
    ("c.3140A>G", "PIK3CA", "H1047R", "missense"),
    ("c.1474A>C", "EGFR", "S492R", "missense"),
    ("c.1476C>A", "EGFR", "S492R", "missense"),
    ("c.1393G>A", "EGFR", "G465R", "missense"),
]


@pytest.mark.parametrize(("raw", "gene", "text", "kind"), ACCEPTED)
def test_accepted(raw: str, gene: str | None, text: str, kind: str) -> None:
    change = parse_change(raw, gene)
    assert (change.text, change.kind) == (text, kind)
    assert change.original == raw


# (input, gene, fragment of the message)
REFUSED = [
    ("Q??zz", None, "'Q??zz' is not a recognised variant notation; accepted forms:"),
    ("G12\u0421", None, "character U+0421 CYRILLIC CAPITAL LETTER ES at position 4"),
    ("G12\u0421", None, "retype it as the plain ASCII 'C'"),
    ("G12C\u200b", None, "character U+200B ZERO WIDTH SPACE at position 5; delete it"),
    ("G12C\u202e", None, "character U+202E RIGHT-TO-LEFT OVERRIDE at position 5"),
    ("\u200bG12C", None, "U+200B ZERO WIDTH SPACE at position 1"),
    ("G\u039912C", None, "U+0399 GREEK CAPITAL LETTER IOTA at position 2"),
    ("exon 2\u20134 mutation", None, "U+2013 EN DASH at position 7; it looks like '-'"),
    ("G1\t2C", None, "character U+0009 at position 3"),
    ("c.999A>T", "KRAS", "c.999A>T' (KRAS) is coding-DNA notation that regimen does not map"),
    ("c.999A>T", "KRAS", "for KRAS the interpreted c. changes are c.34G>T (G12C)"),
    ("c.34G>T", None, "no gene is given to interpret it; write the protein change"),
    ("c.34G>T", "TP53", "c. changes are interpreted only for hotspot substitutions of BRAF, EGFR"),
    ("NM_033360.4:c.34G>T", "KRAS", "regimen maps KRAS c. changes on NM_004985.5 only"),
    ("c.3028+1G>A", "MET", "intronic (splice-region) coding-DNA change"),
    ("g.25245350C>A", None, "genomic (g.) notation, which regimen does not map"),
    ("NC_000012.12:g.25245350C>A", "KRAS", "genomic (g.) notation"),
    ("r.34g>u", "KRAS", "RNA (r.) notation"),
    ("", None, "change is empty; accepted forms:"),
    ("   ", None, "change is empty"),
    ("12C", None, "'12C' is not a recognised variant notation"),
    ("GG12C", None, "'GG12C' is not a recognised variant notation"),
    ("G12CC", None, "'G12CC' is not a recognised variant notation"),
    ("G0C", None, "'G0C' is not a recognised variant notation"),
    ("G12 C", None, "'G12 C' is not a recognised variant notation"),
    ("B12C", None, "'B12C' is not a recognised variant notation"),
    ("p.?", None, "gives no protein consequence"),
    ("V600?", None, "only used for loss of the start codon"),
    ("E750_A746del", None, "a range runs from the lower position to the higher one"),
    ("D770insSVD", None, "an insertion names the two flanking residues"),
    ("D770_N775insSVD", None, "an insertion names the two flanking residues"),
    ("exon 4-2 mutation", None, "write the exon range low to high"),
    ("FGFR2::BICC1", "KRAS", "is a fusion of FGFR2 and BICC1, but it is filed under KRAS"),
    ("ALK::ALK", None, "a fusion joins two different genes"),
    ("ALK fusion", "ROS1", "names ALK, but it is filed under ROS1"),
    ("EML4-ALK", None, "'EML4-ALK' is not a recognised variant notation"),
    ("G12C mutation", None, "is not a recognised variant notation"),
    ("KRAS G12C", None, "'KRAS G12C' is not a recognised variant notation"),
    ("NRAS G12C", "KRAS", "'NRAS G12C' is not a recognised variant notation"),
    ("amplification", "ERBB2", "is an alteration type, not a change; write 'type: amplification'"),
    ("WT", "KRAS", "write 'type: wild-type' and leave the change out"),
    ("promoter methylation", "MGMT", "write 'type: promoter-methylation'"),
]


@pytest.mark.parametrize(("raw", "gene", "fragment"), REFUSED)
def test_refused(raw: str, gene: str | None, fragment: str) -> None:
    with pytest.raises(VocabularyError) as info:
        parse_change(raw, gene)
    assert fragment in str(info.value)


def test_vocabulary_error_is_a_profile_error() -> None:
    with pytest.raises(ProfileError):
        parse_change("Q??zz")


def test_fields() -> None:
    change = parse_change("p.Glu746_Ala750del")
    assert (change.position, change.end, change.ref, change.source_notation) == (
        746, 750, "E", "protein")
    ins = parse_change("D770_N771insSVD")
    assert (ins.position, ins.end, ins.alt) == (770, 771, "SVD")
    fs = parse_change("p.Arg97ProfsTer23")
    assert (fs.ref, fs.alt, fs.stop) == ("R", "P", 23)
    exon = parse_change("exons 2-4 mutation")
    assert (exon.exon, exon.event, exon.position) == ((2, 4), "mutation", None)
    single = parse_change("ex19del")
    assert (single.exon, single.event) == ((19, 19), "deletion")
    fusion = parse_change("FGFR2::BICC1", "BICC1")
    assert (fusion.fusion, fusion.partner) == (("FGFR2", "BICC1"), "FGFR2")
    assert parse_change("FGFR2::BICC1").partner is None
    cdna = parse_change("c.34G>T", "KRAS")
    assert (cdna.source_notation, cdna.transcript, cdna.original) == (
        "coding-dna", "NM_004985.5", "c.34G>T")
    assert (cdna.position, cdna.ref, cdna.alt) == (12, "G", "C")


def test_change_is_frozen() -> None:
    change = parse_change("G12C")
    with pytest.raises(ValueError):
        setattr(change, "text", "G12D")  # noqa: B010


# -- hotspot table -----------------------------------------------------------------------------

_CODE = {
    "TTT": "F", "TTC": "F", "TTA": "L", "TTG": "L", "CTT": "L", "CTC": "L", "CTA": "L",
    "CTG": "L", "ATT": "I", "ATC": "I", "ATA": "I", "ATG": "M", "GTT": "V", "GTC": "V",
    "GTA": "V", "GTG": "V", "TCT": "S", "TCC": "S", "TCA": "S", "TCG": "S", "CCT": "P",
    "CCC": "P", "CCA": "P", "CCG": "P", "ACT": "T", "ACC": "T", "ACA": "T", "ACG": "T",
    "GCT": "A", "GCC": "A", "GCA": "A", "GCG": "A", "TAT": "Y", "TAC": "Y", "CAT": "H",
    "CAC": "H", "CAA": "Q", "CAG": "Q", "AAT": "N", "AAC": "N", "AAA": "K", "AAG": "K",
    "GAT": "D", "GAC": "D", "GAA": "E", "GAG": "E", "TGT": "C", "TGC": "C", "TGG": "W",
    "CGT": "R", "CGC": "R", "CGA": "R", "CGG": "R", "AGT": "S", "AGC": "S", "AGA": "R",
    "AGG": "R", "GGT": "G", "GGC": "G", "GGA": "G", "GGG": "G",
}


def test_hotspot_rows_are_consistent() -> None:
    """Each row: c. position lies in the p. codon, and a cited codon change translates."""
    import re

    rows = list(hotspots().values())
    assert len(rows) >= 30
    for row in rows:
        protein = parse_change(row.p_change)
        assert protein.kind == "missense", row
        assert row.transcript.startswith("NM_") and "." in row.transcript, row
        assert row.source.strip(), row
        start = re.match(r"c\.([0-9]+)", row.c_change)
        assert start is not None, row
        first = int(start.group(1))
        assert (first + 2) // 3 == protein.position, row
        codon = re.search(r"codon ([ACGT]{3})>([ACGT]{3})", row.source)
        if codon:
            assert _CODE[codon.group(1)] == protein.ref, row
            assert _CODE[codon.group(2)] == protein.alt, row
            # the substituted base(s) are where the c. change says
            subst = re.fullmatch(r"c\.([0-9]+)([ACGT])>([ACGT])", row.c_change)
            if subst:
                offset = (int(subst.group(1)) - 1) % 3
                assert codon.group(1)[offset] == subst.group(2), row
                assert codon.group(2)[offset] == subst.group(3), row


def test_hotspot_table_covers_the_brief() -> None:
    keys = {(row.gene, row.p_change) for row in hotspots().values()}
    for wanted in [("KRAS", "G12C"), ("KRAS", "G12D"), ("KRAS", "G13D"), ("KRAS", "Q61H"),
                   ("KRAS", "A146T"), ("NRAS", "G12D"), ("NRAS", "Q61K"), ("BRAF", "V600E"),
                   ("BRAF", "V600K"), ("PIK3CA", "E542K"), ("PIK3CA", "E545K"),
                   ("PIK3CA", "H1047R"), ("PIK3CA", "H1047L"), ("EGFR", "S492R"),
                   ("EGFR", "G465R")]:
        assert wanted in keys


def test_hotspot_table_is_loaded_once() -> None:
    assert hotspots() is hotspots()


# -- alteration type ---------------------------------------------------------------------------

def test_implied_type() -> None:
    assert implied_type(parse_change("G12C")) == "mutation"
    assert implied_type(parse_change("exon 19 deletion")) == "mutation"
    assert implied_type(parse_change("splice site")) == "mutation"
    assert implied_type(parse_change("FGFR2::BICC1")) == "fusion"


@pytest.mark.parametrize(
    ("raw", "kind", "fragment"),
    [
        ("G12C", "wild-type", "wild-type means no change was found"),
        ("G12C", "amplification", "not amplification; list the amplification as a separate"),
        ("G12C", "loss", "not loss"),
        ("G12C", "fusion", "G12C is a mutation; write type: mutation"),
        ("FGFR2::BICC1", "mutation", "FGFR2::BICC1 is a fusion; write type: fusion"),
        ("FGFR2::BICC1", "wild-type", "wild-type means no change was found"),
    ],
)
def test_check_type_refuses_contradictions(raw: str, kind: str, fragment: str) -> None:
    with pytest.raises(VocabularyError) as info:
        check_type(parse_change(raw), kind)
    assert fragment in str(info.value)
    assert repr(raw) in str(info.value)


def test_check_type_accepts_agreement() -> None:
    assert check_type(parse_change("G12C"), None) == "mutation"
    assert check_type(parse_change("G12C"), "mutation") == "mutation"
    assert check_type(parse_change("FGFR2::BICC1"), "fusion") == "fusion"


# -- properties --------------------------------------------------------------------------------

_RESIDUES = sorted(ONE_TO_THREE.keys() - {"*"})


def _same(a: Change, b: Change) -> bool:
    return a.model_dump(exclude={"original"}) == b.model_dump(exclude={"original"})


@st.composite
def protein_changes(draw: st.DrawFn) -> str:
    ref = draw(st.sampled_from(_RESIDUES))
    alt = draw(st.sampled_from(_RESIDUES))
    ref2 = draw(st.sampled_from(_RESIDUES))
    pos = draw(st.integers(min_value=1, max_value=4000))
    pos2 = pos + draw(st.integers(min_value=1, max_value=9))
    seq = "".join(draw(st.lists(st.sampled_from(_RESIDUES), min_size=1, max_size=6)))
    stop = draw(st.integers(min_value=1, max_value=99))
    three = draw(st.booleans())

    def aa(code: str) -> str:
        return ONE_TO_THREE[code] if three else code

    def aas(codes: str) -> str:
        return "".join(aa(c) for c in codes)

    form = draw(st.sampled_from([
        f"{aa(ref)}{pos}{aa(alt)}", f"{aa(ref)}{pos}{'Ter' if three else '*'}",
        f"{aa(ref)}{pos}=", f"{aa(ref)}{pos}fs", f"{aa(ref)}{pos}{aa(alt)}fs*{stop}",
        f"{aa(ref)}{pos}del", f"{aa(ref)}{pos}_{aa(ref2)}{pos2}del",
        f"{aa(ref)}{pos}_{aa(ref2)}{pos2}dup", f"{aa(ref)}{pos}_{aa(ref2)}{pos + 1}ins{aas(seq)}",
        f"{aa(ref)}{pos}_{aa(ref2)}{pos2}delins{aas(seq)}", f"*{pos}{aa(alt)}ext*{stop}",
        f"{aa(ref)}{pos}", f"{aa(ref)}{pos}_splice", "M1?",
    ]))
    wrap = draw(st.sampled_from(["{}", "p.{}", "p.({})"]))
    return wrap.format(form)


@st.composite
def any_accepted(draw: st.DrawFn) -> tuple[str, str | None]:
    fixed = [(raw, gene) for raw, gene, _, _ in ACCEPTED]
    return draw(st.one_of(st.sampled_from(fixed), protein_changes().map(lambda s: (s, None))))


@settings(max_examples=300, deadline=None)
@given(any_accepted())
def test_canonical_text_parses_back_to_the_same_change(case: tuple[str, str | None]) -> None:
    raw, gene = case
    change = parse_change(raw, gene)
    again = parse_change(change.text, gene)
    assert again.text == change.text
    if change.source_notation == "coding-dna":
        assert again.model_dump(exclude={"original", "source_notation", "transcript"}) == (
            change.model_dump(exclude={"original", "source_notation", "transcript"}))
    else:
        assert _same(again, change)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_RESIDUES), st.sampled_from(_RESIDUES), st.integers(1, 5000),
       st.sampled_from(["{}", "p.{}", "p.({})"]))
def test_three_letter_and_one_letter_agree(ref: str, alt: str, pos: int, wrap: str) -> None:
    one = parse_change(wrap.format(f"{ref}{pos}{alt}"))
    three = parse_change(wrap.format(f"{ONE_TO_THREE[ref]}{pos}{ONE_TO_THREE[alt]}"))
    assert one.text == three.text
    assert _same(one, three)
    assert one.kind == ("synonymous" if ref == alt else "missense")


def _stays_non_ascii(char: str) -> bool:
    folded = unicodedata.normalize("NFKC", char)
    return any(not " " <= c <= "~" for c in folded) and folded.strip(" \t\r\n") != ""


_NON_ASCII = st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF).filter(_stays_non_ascii)


@settings(max_examples=400, deadline=None)
@given(any_accepted(), _NON_ASCII, st.integers(min_value=0, max_value=40))
def test_a_non_ascii_character_is_always_refused_with_its_code_point(
    case: tuple[str, str | None], char: str, where: int
) -> None:
    raw, gene = case
    raw = raw.strip()
    where = min(where, len(raw))
    bad = raw[:where] + char + raw[where:]
    with pytest.raises(VocabularyError) as info:
        parse_change(bad, gene)
    assert "U+" in str(info.value)
    assert "at position" in str(info.value)


def test_clean_text_keeps_ascii_and_collapses_spaces() -> None:
    assert clean_text("  exon   19  deletion ") == "exon 19 deletion"
