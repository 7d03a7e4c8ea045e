"""Framework profiles: what each oversight regime asks a report to show, as data.

A profile is a list of *items*. An item is answered either by the audit
itself (``source="audit"``: the report fills it from the result) or by the
people responsible for the system (``source="spec"``: the answer is read from
``report.answers[item.id]`` in the spec, and the report says "not provided"
when it is missing, so a gap is visible rather than silent). The facts come
from ``shared/reference/standards.md``; items marked there as to be verified
are worded cautiously.

Findings are mapped to the principles or obligations they touch through
:data:`FINDING_MAP`, by finding kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Source = Literal["audit", "spec"]


@dataclass(frozen=True)
class Item:
    """One thing a framework asks for: an id (for ``report.answers``), its text, and who answers it."""

    id: str
    text: str
    source: Source = "spec"


@dataclass(frozen=True)
class Profile:
    """A framework section of the report."""

    key: str
    title: str
    intro: str
    items: tuple[Item, ...]


PROFILES: dict[str, Profile] = {p.key: p for p in (
    Profile("nyc_ll144", "NYC Local Law 144: bias audit summary",
            "Selection or scoring rates and impact ratios against the highest-rate category, for each sex, "
            "race/ethnicity and intersectional category, with the number of people in an unknown category "
            "(6 RCNY §5-301, §5-303). Written for employment tools; used here as a template.",
            (Item("nyc_ll144.table", "Summary table: N, rate and impact ratio for every category", "audit"),
             Item("nyc_ll144.unknown", "Number of individuals in an unknown category", "audit"),
             Item("nyc_ll144.excluded", "Categories under the small-share rule: justification, N and rate", "audit"),
             Item("nyc_ll144.data_source", "Source and explanation of the data (historical or test data)"),
             Item("nyc_ll144.distribution_date", "Distribution date of the tool"),
             Item("nyc_ll144.independence", "Statement of the auditor's independence"))),
    Profile("eu_ai_act", "EU AI Act (Regulation (EU) 2024/1689)",
            "Bias examination of the data (Art. 10(2)(f)-(g)), accuracy per group (Annex IV 3(a)), the "
            "fundamental-rights impact assessment of a public deployer (Art. 27(1)(a)-(f)) and the social-"
            "scoring prohibition (Art. 5(1)(c)).",
            (Item("eu_ai_act.art10", "Art. 10(2)(f)-(g): examination for possible biases, and measures to detect, "
                                     "prevent and mitigate them", "audit"),
             Item("eu_ai_act.annex_iv", "Annex IV 3(a): degrees of accuracy for specific groups of persons", "audit"),
             Item("eu_ai_act.fria.process", "Art. 27(1)(a): the deployer's processes in which the system is used"),
             Item("eu_ai_act.fria.period", "Art. 27(1)(b): period of time and frequency of use"),
             Item("eu_ai_act.fria.affected", "Art. 27(1)(c): categories of persons and groups likely to be affected"),
             Item("eu_ai_act.fria.risks", "Art. 27(1)(d): specific risks of harm to those categories"),
             Item("eu_ai_act.fria.oversight", "Art. 27(1)(e): how human oversight measures are implemented"),
             Item("eu_ai_act.fria.measures", "Art. 27(1)(f): measures if the risks materialise, including "
                                             "governance and complaint mechanisms"),
             Item("eu_ai_act.art5.context", "Art. 5(1)(c)(i): does the score lead to detrimental treatment in "
                                            "social contexts unrelated to where the data was collected? (each "
                                            "input's original context against the decision's context)"),
             Item("eu_ai_act.art5.proportion", "Art. 5(1)(c)(ii): is the detrimental treatment unjustified or "
                                               "disproportionate to the behaviour scored or its gravity?"))),
    Profile("vietnam", "Vietnam: Law on Artificial Intelligence (134/2025/QH15) and responsible-AI principles",
            "For AI in state management and public services, an impact-assessment report on risks, mitigation "
            "and human-oversight arrangements, to be disclosed publicly (Art. 27; article numbers as reported, to "
            "be checked against the official text); fairness, non-discrimination and human control (Art. 4); the "
            "National AI Ethics Framework (Circular 05/2026) asks for bias examination across gender, ethnicity, "
            "religion and social status. The six principles of the responsible-AI code (transparency, "
            "trustworthiness, respect for intellectual property, privacy, human dignity, accountability) are "
            "voluntary and cited as soft law; every finding is mapped to them.",
            (Item("vietnam.risk_tier", "Risk tier (high, medium, low) and the classification reasoning (Art. 9-10)"),
             Item("vietnam.art27.risks", "Art. 27: risks of the system to the people it decides about", "audit"),
             Item("vietnam.art27.mitigation", "Art. 27: mitigation measures"),
             Item("vietnam.art27.oversight", "Art. 27: human-oversight arrangements (who can intervene, and how)"),
             Item("vietnam.art27.disclosure", "Art. 27: what is disclosed publicly, and what is withheld as state "
                                              "or business secret or personal data"),
             Item("vietnam.ethics.bias", "Ethics Framework: bias examined across gender, ethnicity, religion and "
                                         "social status", "audit"),
             Item("vietnam.pdpl", "Personal data: legal basis for the sensitive attributes used in this audit "
                                  "(PDPL 91/2025/QH15)"))),
    Profile("canada_aia", "Canada: Directive on Automated Decision-Making and the Algorithmic Impact Assessment",
            "The AIA's impact level (I to IV), tests of the data and model for unintended biases before "
            "production (6.3.1), a GBA+ analysis (6.3.8) and human involvement scaled to the level.",
            (Item("canada_aia.level", "AIA impact level (I to IV) and the published AIA"),
             Item("canada_aia.bias_tests", "6.3.1: tests for unintended biases in data and model", "audit"),
             Item("canada_aia.gba_plus", "6.3.8: Gender-based Analysis Plus (intersectional results)", "audit"),
             Item("canada_aia.human", "6.3.13: human involvement in the decision, against the level"),
             Item("canada_aia.peer_review", "6.3.7: peer review (Level II and above) and its plain-language "
                                            "summary"))),
    Profile("nist_ai_rmf", "NIST AI Risk Management Framework",
            "MEASURE 2.11: fairness and bias, as identified in the MAP function, are evaluated and results are "
            "documented. MAP 5.1: likely impacts on individuals, groups and society.",
            (Item("nist_ai_rmf.measure_2_11", "MEASURE 2.11: fairness and bias evaluated; results documented",
                  "audit"),
             Item("nist_ai_rmf.map_5_1", "MAP 5.1: likely impacts on individuals, groups and society"),
             Item("nist_ai_rmf.bias_categories", "SP 1270 bias categories considered (systemic, computational "
                                                 "and statistical, human-cognitive)"))),
)}

VIETNAM_PRINCIPLES = ("transparency", "trustworthiness", "respect for intellectual property", "privacy",
                      "human dignity", "accountability")

FindingKind = Literal["disparity", "inconclusive", "proxy", "selective_labels", "override", "small_groups",
                      "unknown_values"]

FINDING_MAP: dict[FindingKind, dict[str, tuple[str, ...]]] = {
    "disparity": {"vietnam": ("trustworthiness", "human dignity", "accountability"),
                  "eu_ai_act": ("Art. 10(2)(f)-(g)", "Annex IV 3(a)"), "nyc_ll144": ("§5-301 impact ratio",),
                  "canada_aia": ("6.3.1",), "nist_ai_rmf": ("MEASURE 2.11",)},
    "inconclusive": {"vietnam": ("transparency", "accountability"), "eu_ai_act": ("Art. 10(3)",),
                     "canada_aia": ("6.3.1",), "nist_ai_rmf": ("MEASURE 2.11",)},
    "proxy": {"vietnam": ("privacy", "human dignity", "transparency"), "eu_ai_act": ("Art. 10(2)(f)",),
              "canada_aia": ("6.3.1",), "nist_ai_rmf": ("MAP 5.1",)},
    "selective_labels": {"vietnam": ("transparency", "trustworthiness"), "eu_ai_act": ("Art. 10(2)(d)",),
                         "nist_ai_rmf": ("MEASURE 2.11",)},
    "override": {"vietnam": ("accountability", "human dignity"), "eu_ai_act": ("Art. 14",),
                 "canada_aia": ("6.3.13",), "nist_ai_rmf": ("MEASURE 2.11",)},
    "small_groups": {"vietnam": ("transparency",), "eu_ai_act": ("Art. 10(3)",), "nyc_ll144": ("§5-301(d)",)},
    "unknown_values": {"vietnam": ("transparency",), "nyc_ll144": ("§5-303 unknown category",),
                       "eu_ai_act": ("Art. 10(2)(h)",)},
}


def item_ids() -> list[str]:
    """Every checklist item id a spec may answer in ``report.answers``."""
    return [item.id for profile in PROFILES.values() for item in profile.items]


def obligations(kind: FindingKind, frameworks: tuple[str, ...]) -> list[tuple[str, str]]:
    """(framework title, principle or article) pairs a finding of ``kind`` touches, for the chosen frameworks.

    The Vietnamese responsible-AI principles are always listed (the mission's
    setting); other frameworks only when the spec chose them.
    """
    pairs: list[tuple[str, str]] = []
    chosen = tuple(dict.fromkeys(("vietnam",) + tuple(frameworks)))
    for key in chosen:
        for name in FINDING_MAP.get(kind, {}).get(key, ()):
            pairs.append((key, name))
    return pairs
