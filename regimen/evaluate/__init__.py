"""Evaluation: as-of restriction, ctDNA, facts, findings, ranking, result assembly,
explanations and the timeline. Backend-neutral: the engine is reached through
:mod:`regimen.engine.base`.
"""
