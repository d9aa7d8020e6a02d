"""Classify a document as a security policy, legal text, prose or other.

The rules weigh control ids, security keywords and the density of policy and
legal vocabulary. NOTE: the vocabularies and keywords are English, so a policy
or a statute in another language is classified only by its control ids and
otherwise ends up as prose or other.
"""

import re
from collections.abc import Collection, Sequence

from examples.document_intelligence.language_detection import UNKNOWN

SECURITY_POLICY = "security-policy"
LEGAL = "legal-regulatory"
PROSE = "prose"
OTHER = "other"
DOC_TYPES = (SECURITY_POLICY, LEGAL, PROSE, OTHER)

# Below this many words a document is too short to tell prose from a label or
# a form, unless control ids make it a security document.
MIN_WORDS = 50

# Three distinct control ids, or one together with this many distinct security
# keywords, mark a security document on their own.
MIN_CONTROL_IDS = 3
MIN_KEYWORDS_WITH_ID = 3

# Without control ids, a security policy needs a broad keyword vocabulary, on
# at least half of its pages, written in the language of rules and duties.
MIN_KEYWORDS_WITHOUT_ID = 8
MIN_KEYWORD_PAGE_SHARE = 0.5
MIN_POLICY_TERMS_PER_1000_WORDS = 20.0

# Statutes, treaties and summaries of them use legal vocabulary at a rate far
# above policies (which cite a law now and then) and prose.
MIN_LEGAL_TERMS_PER_1000_WORDS = 15.0

# Prose may mention a password or an incident in passing, but not more.
MAX_PROSE_KEYWORDS = 2

_WORD = re.compile(r"[^\W\d_]+")
_POLICY_TERM = re.compile(
    r"\b(?:polic(?:y|ies)|procedures?|shall|must|responsib(?:le|ility|ilities)"
    r"|employees?|personnel|workforce|complian(?:ce|t)|standards?|guidelines?"
    r"|approv(?:e|ed|al|als)|annually|owners?)\b",
    re.IGNORECASE,
)
_LEGAL_TERM = re.compile(
    r"\b(?:acts?|statutes?|statutory|laws?|legislation|legislative|congress|courts?"
    r"|liabilit(?:y|ies)|liable|infringement|pursuant|provisions?"
    r"|amend(?:s|ed|ment|ments)|regulations?|sections?|subsections?|titles?"
    r"|hereby|herein|thereof|plaintiffs?|defendants?|jurisdictions?|treat(?:y|ies))\b"
    r"|§|\bU\.S\.C\.|\bPub\.\s?L\.",
    re.IGNORECASE,
)


def count_words(text: str) -> int:
    """Return the number of runs of letters in `text`."""
    return len(_WORD.findall(text))


def classify_document(
    text: str,
    language: str,
    control_ids: Collection[str],
    page_keywords: Sequence[Collection[str]],
) -> str:
    """Return one of DOC_TYPES for a document.

    `text` is the whole text, `language` an ISO 639-1 code or "unknown",
    `control_ids` the distinct control ids of all frameworks and
    `page_keywords` the security keywords found on each page.
    """
    word_count = count_words(text)
    keywords = set().union(*page_keywords) if page_keywords else set()

    if len(control_ids) >= MIN_CONTROL_IDS:
        return SECURITY_POLICY
    if control_ids and len(keywords) >= MIN_KEYWORDS_WITH_ID:
        return SECURITY_POLICY
    if word_count < MIN_WORDS:
        return OTHER

    if _per_1000_words(_LEGAL_TERM, text, word_count) >= MIN_LEGAL_TERMS_PER_1000_WORDS:
        return LEGAL

    pages_with_keywords = sum(1 for found in page_keywords if found)
    keyword_page_share = pages_with_keywords / max(len(page_keywords), 1)
    if (
        len(keywords) >= MIN_KEYWORDS_WITHOUT_ID
        and keyword_page_share >= MIN_KEYWORD_PAGE_SHARE
        and _per_1000_words(_POLICY_TERM, text, word_count) >= MIN_POLICY_TERMS_PER_1000_WORDS
    ):
        return SECURITY_POLICY

    # Text without a detectable language, such as Lorem ipsum, is not prose.
    if language != UNKNOWN and not control_ids and len(keywords) <= MAX_PROSE_KEYWORDS:
        return PROSE
    return OTHER


def _per_1000_words(pattern: re.Pattern[str], text: str, word_count: int) -> float:
    return 1000.0 * len(pattern.findall(text)) / word_count
