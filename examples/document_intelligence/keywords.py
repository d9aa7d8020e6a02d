"""Find information-security keywords in text.

Each keyword has one pattern that also matches its inflections and common
synonyms, so "encrypted", "decryption" and "encrypting" all count as
"encryption". Matching ignores case, joins words hyphenated across a line break
and lets any whitespace separate the words of a phrase.
"""

import re
from collections.abc import Mapping

SECURITY_KEYWORDS: Mapping[str, str] = {
    "access control": r"access\s+controls?",
    "antivirus": r"anti-?virus",
    "audit log": r"audit\s+(?:logs?|logging|trails?)",
    "authentication": r"authenticat(?:e|es|ed|ing|ion|or)s?",
    "authorization": r"authori[sz]ations?",
    "backup": r"back-?ups?",
    "business continuity": r"business\s+continuity",
    "change management": r"change\s+management",
    "confidentiality": r"confidentiality",
    "data breach": r"(?:data|security)\s+breach(?:es)?",
    "data classification": r"(?:data|information)\s+classification",
    "disaster recovery": r"disaster\s+recovery",
    "encryption": r"(?:en|de)crypt(?:s|ed|ing|ion|ions)?",
    "firewall": r"firewalls?",
    "incident": r"incidents?",
    "incident response": r"incident\s+response",
    "intrusion detection": r"intrusion\s+(?:detection|prevention)",
    "key management": r"(?:key\s+management|(?:cryptographic|encryption)\s+keys?)",
    "least privilege": r"least[\s-]+privileges?",
    "malware": r"(?:malware|ransomware|malicious\s+(?:code|software))",
    "multi-factor authentication": r"(?:multi[\s-]?factor|two[\s-]factor|2fa|mfa)(?:\s+authentication)?",
    "password": r"(?:passwords?|passphrases?)",
    "patch management": r"(?:patch\s+management|security\s+patch(?:es)?|patching)",
    "penetration test": r"(?:penetration\s+test(?:s|ing)?|pen[\s-]?test(?:s|ing)?)",
    "phishing": r"phishing",
    "privileged access": r"privileged\s+(?:access|accounts?|users?)",
    "risk assessment": r"risk\s+assessments?",
    "security awareness": r"security\s+awareness",
    "security testing": r"security\s+testing",
    "vulnerability": r"vulnerabilit(?:y|ies)",
}

_KEYWORD_PATTERNS: Mapping[str, re.Pattern[str]] = {
    keyword: re.compile(rf"\b{pattern}\b", re.IGNORECASE) for keyword, pattern in SECURITY_KEYWORDS.items()
}

# "encryp-\ntion" -> "encryption". Only a hyphen directly before the line break
# is removed, so "multi-factor" in the middle of a line stays as written.
_LINE_BREAK_HYPHEN = re.compile(r"(?<=[^\W\d_])-[ \t]*\r?\n[ \t]*(?=[^\W\d_])")


def join_hyphenated_words(text: str) -> str:
    """Join words that a line break split with a hyphen."""
    return _LINE_BREAK_HYPHEN.sub("", text)


def find_keywords(text: str) -> set[str]:
    """Return the keys of SECURITY_KEYWORDS whose pattern occurs in `text`."""
    joined = join_hyphenated_words(text)
    return {keyword for keyword, pattern in _KEYWORD_PATTERNS.items() if pattern.search(joined)}
