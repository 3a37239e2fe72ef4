"""Which rules encode which section and table row of each source review.

A section counts as encoded when a rule cites it or one of its subsections; a
table row only when a rule cites that row ("Table 2 row 7"). Items left out on
purpose are listed in ``knowledge/exclusions.yaml`` with the reason. A trial, approval
or guideline source (the standard-of-care layer) is one item of kind ``trial`` (or
``approval``, ``guideline``), encoded when any rule cites it.
"""

from __future__ import annotations

from ..knowledge.base import KnowledgeBase
from ..models import Model


class CoverageItem(Model):
    where: str
    kind: str  # "section", "table row", or the source kind: "trial", "approval", "guideline"
    title: str
    rules: list[str]
    excluded: str | None

    @property
    def status(self) -> str:
        if self.rules:
            return "encoded"
        return "excluded" if self.excluded else "unaccounted"


class SourceCoverage(Model):
    key: str
    title: str
    items: list[CoverageItem]
    encoded: int
    excluded: int
    unaccounted: int


class CoverageReport(Model):
    sources: list[SourceCoverage]
    encoded: int
    excluded: int
    unaccounted: int

    @property
    def complete(self) -> bool:
        return self.unaccounted == 0


def coverage(kb: KnowledgeBase) -> CoverageReport:
    cited: dict[tuple[str, str], set[str]] = {}
    for rule in kb.rules:
        for cite in rule.cite:
            for locator in cite.locators:
                cited.setdefault((cite.source, locator), set()).add(rule.id)
    excluded = {(e.source, e.where): e.reason for e in kb.exclusions}
    sources: list[SourceCoverage] = []
    for key in sorted(kb.sources):
        source = kb.sources[key]
        items: list[CoverageItem] = []
        if not source.is_review:
            rules_citing = {r for (src, _), ids in cited.items() if src == key for r in ids}
            items.append(CoverageItem(where=source.kind, kind=source.kind, title=source.title,
                                      rules=sorted(rules_citing),
                                      excluded=excluded.get((key, source.kind))))
        for section in source.sections:
            rules: set[str] = set()
            for (src, locator), ids in cited.items():
                if src == key and (locator == section.id or
                                   locator.startswith(section.id + ".")):
                    rules |= ids
            items.append(CoverageItem(where=section.id, kind="section", title=section.title,
                                      rules=sorted(rules),
                                      excluded=excluded.get((key, section.id))))
        for table in source.tables:
            for row in table.rows:
                where = f"{table.id} row {row.row}"
                items.append(CoverageItem(where=where, kind="table row", title=row.summary,
                                          rules=sorted(cited.get((key, where), set())),
                                          excluded=excluded.get((key, where))))
        counts = [i.status for i in items]
        sources.append(SourceCoverage(
            key=key, title=source.title, items=items, encoded=counts.count("encoded"),
            excluded=counts.count("excluded"), unaccounted=counts.count("unaccounted")))
    return CoverageReport(
        sources=sources,
        encoded=sum(s.encoded for s in sources),
        excluded=sum(s.excluded for s in sources),
        unaccounted=sum(s.unaccounted for s in sources),
    )
