"""Find control ids of SOC 2, ISO/IEC 27001 Annex A and NIST SP 800-53 in text.

Each pattern matches the written form of an id, and a table of the real ids of
each framework then rejects numbers that only look like one, such as CC9.9 or
AC-99. The tables follow the 2017 Trust Services Criteria (SOC 2), ISO/IEC
27001:2013 and 27001:2022 Annex A, and NIST SP 800-53 Revision 5.
"""

import re
from collections.abc import Iterable, Mapping

SOC2 = "SOC 2"
ISO27001 = "ISO 27001"
NIST_800_53 = "NIST SP 800-53"
FRAMEWORKS = (SOC2, ISO27001, NIST_800_53)

# Number of criteria in each series of the 2017 Trust Services Criteria:
# CC1.1 to CC1.5, ..., PI1.1 to PI1.5, P1.1, ..., P8.1.
_SOC2_CRITERIA_COUNTS: Mapping[str, int] = {
    "CC1": 5, "CC2": 3, "CC3": 4, "CC4": 2, "CC5": 3, "CC6": 8, "CC7": 5, "CC8": 1, "CC9": 2,
    "A1": 3, "C1": 2, "PI1": 5,
    "P1": 1, "P2": 1, "P3": 2, "P4": 3, "P5": 2, "P6": 7, "P7": 1, "P8": 1,
}  # fmt: skip

# Number of controls in each control objective of ISO/IEC 27001:2013 Annex A
# (A.5.1.1 to A.5.1.2, ..., A.18.2.1 to A.18.2.3, 114 controls in all).
_ISO2013_CONTROL_COUNTS: Mapping[str, int] = {
    "5.1": 2, "6.1": 5, "6.2": 2, "7.1": 2, "7.2": 3, "7.3": 1,
    "8.1": 4, "8.2": 3, "8.3": 3, "9.1": 2, "9.2": 6, "9.3": 1, "9.4": 5,
    "10.1": 2, "11.1": 6, "11.2": 9,
    "12.1": 4, "12.2": 1, "12.3": 1, "12.4": 4, "12.5": 1, "12.6": 2, "12.7": 1,
    "13.1": 3, "13.2": 4, "14.1": 3, "14.2": 9, "14.3": 1, "15.1": 3, "15.2": 2,
    "16.1": 7, "17.1": 3, "17.2": 1, "18.1": 5, "18.2": 3,
}  # fmt: skip

# Number of controls in each theme of ISO/IEC 27001:2022 Annex A: organizational
# (5.1 to 5.37), people (6.1 to 6.8), physical (7.1 to 7.14), technological (8.1 to 8.34).
_ISO2022_CONTROL_COUNTS: Mapping[str, int] = {"5": 37, "6": 8, "7": 14, "8": 34}

# Highest base control number of each NIST SP 800-53 Rev. 5 family. Withdrawn
# controls keep their numbers, so documents written for Rev. 4 still match.
_NIST_FAMILY_MAX: Mapping[str, int] = {
    "AC": 25, "AT": 6, "AU": 16, "CA": 9, "CM": 14, "CP": 13, "IA": 13,
    "IR": 10, "MA": 7, "MP": 8, "PE": 23, "PL": 11, "PM": 32, "PS": 9,
    "PT": 8, "RA": 10, "SA": 23, "SC": 51, "SI": 23, "SR": 12,
}  # fmt: skip

# The lookbehind rejects ids glued to a word, a dot or a hyphen ("CC-BY-SA-4.0",
# "v2.CC6.1"). The lookahead rejects a following letter, digit, hyphen or a dot
# with a digit, so "CC6.1.2", "AC-2021" and "SA-4.0" do not match.
_BEFORE = r"(?<![\w.\-/])"
_AFTER = r"(?![\w\-]|\.\d)"

# CC and PI series are unambiguous on their own. A1.2, C1.1 and P3.1 look like
# outline numbers, so they count only after an explicit SOC 2 reference.
_SOC2_CC_OR_PI = re.compile(_BEFORE + r"(?P<id>(?:CC|PI)[1-9]\.[1-9])" + _AFTER)
_SOC2_ID = r"(?:CC|PI|A|C|P)[1-9]\.[1-9]"
_SOC2_ANCHORED_LIST = re.compile(
    r"\b(?:SOC\s*2|TSC|Trust\s+Services?\s+Criteri(?:a|on))"
    r"(?:\s+(?:criteri(?:a|on)|points?\s+of\s+focus))?[\s:]*"
    rf"(?P<ids>{_SOC2_ID}{_AFTER}(?:\s*(?:,|;|/|&|and|or)\s*{_SOC2_ID}{_AFTER})*)"
)

# ISO/IEC 27001:2013 controls have three numbers after "A." (A.9.2.1). The
# 2022 controls have two (A.5.15). A bare 2022 number such as 5.15 counts only
# in a list that follows "Annex A" or "ISO 27001 ... control", because plain
# decimal numbers and the management-system clauses (ISO 27001 clause 6.1.2)
# look the same.
_ISO_PREFIXED = re.compile(_BEFORE + r"A\.(?P<id>(?:[5-9]|1[0-8])\.[1-9]\.[1-9]|[5-8]\.[1-9]\d?)" + _AFTER)
_ISO_ID = r"(?:A\.)?(?:[5-9]|1[0-8])\.[1-9]\d?(?:\.[1-9])?"
_ISO_ANCHORED_LIST = re.compile(
    r"(?:\bAnnex\s+A\b(?:\s*\((?:ISO(?:/IEC)?\s*)?(?:27001:)?20(?:13|22)\))?[\s:\u2013\-]*"
    r"(?:controls?\s+)?"
    r"|\bISO(?:/IEC)?\s*27001(?::\s*20(?:13|22))?\s+(?:Annex\s+A\s+)?controls?\s+)"
    rf"(?P<ids>{_ISO_ID}{_AFTER}(?:\s*(?:,|;|/|&|and|or)\s*{_ISO_ID}{_AFTER})*)"
)

# NIST ids are a family, a hyphen and a control number, optionally followed by
# an enhancement in brackets: AC-2, IA-2(1), SC-7 (5). The OSCAL catalog writes
# the numbers with two digits (AC-02, IA-13(01)), so one leading zero is allowed
# and removed from the result.
_NIST_NUMBER = r"(?:0[1-9]|[1-9]\d?)"
_NIST_ID = re.compile(
    _BEFORE
    + rf"(?P<family>[A-Z]{{2}})-(?P<number>{_NIST_NUMBER})(?:\s?\((?P<enhancement>{_NIST_NUMBER})\))?"
    + _AFTER
)

_ID_IN_LIST = re.compile(r"[A-Z]*\.?[0-9.]+[0-9]")


def find_soc2_ids(text: str) -> set[str]:
    """Return the SOC 2 Trust Services Criteria ids in `text`, such as CC6.1."""
    candidates = {match["id"] for match in _SOC2_CC_OR_PI.finditer(text)}
    for match in _SOC2_ANCHORED_LIST.finditer(text):
        candidates.update(_ID_IN_LIST.findall(match["ids"]))
    return {candidate for candidate in candidates if _is_soc2_criterion(candidate)}


def find_iso27001_ids(text: str) -> set[str]:
    """Return the ISO/IEC 27001 Annex A control ids in `text`.

    Ids come out with the "A." prefix in both forms: A.9.2.1 (2013) and A.5.15 (2022).
    NOTE: A.5.1, A.6.1, A.6.2, A.7.1 to A.7.3 and A.8.1 to A.8.3 are also 2013
    control objectives. They are read as 2022 controls because the two-number form
    is the 2022 one.
    """
    candidates = {match["id"] for match in _ISO_PREFIXED.finditer(text)}
    for match in _ISO_ANCHORED_LIST.finditer(text):
        for written in _ID_IN_LIST.findall(match["ids"]):
            candidates.add(written.removeprefix("A."))
    return {f"A.{candidate}" for candidate in candidates if _is_iso_control(candidate)}


def find_nist_ids(text: str) -> set[str]:
    """Return the NIST SP 800-53 control ids in `text`, such as AC-2 and IA-2(1).

    Ids come out without leading zeros, so AC-02(01) becomes AC-2(1).
    """
    found: set[str] = set()
    for match in _NIST_ID.finditer(text):
        family = match["family"]
        number = int(match["number"])
        if number > _NIST_FAMILY_MAX.get(family, 0):
            continue
        control = f"{family}-{number}"
        if match["enhancement"] is not None:
            control += f"({int(match['enhancement'])})"
        found.add(control)
    return found


def find_control_ids(text: str) -> dict[str, set[str]]:
    """Return the control ids in `text` of each framework in FRAMEWORKS."""
    return {
        SOC2: find_soc2_ids(text),
        ISO27001: find_iso27001_ids(text),
        NIST_800_53: find_nist_ids(text),
    }


def natural_sort_key(control_id: str) -> tuple[tuple[int, str], ...]:
    """Return a sort key that orders numbers by value, so AC-2 comes before AC-10."""
    parts = re.findall(r"\d+|\D+", control_id)
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in parts)


def sort_ids(control_ids: Iterable[str]) -> list[str]:
    """Return the unique ids of `control_ids` in natural order."""
    return sorted(set(control_ids), key=natural_sort_key)


def _is_soc2_criterion(criterion: str) -> bool:
    series, _, number = criterion.partition(".")
    return 1 <= int(number) <= _SOC2_CRITERIA_COUNTS.get(series, 0)


def _is_iso_control(control: str) -> bool:
    """Check a control number without its "A." prefix against both Annex A editions."""
    parts = control.split(".")
    if len(parts) == 3:
        objective = f"{parts[0]}.{parts[1]}"
        return 1 <= int(parts[2]) <= _ISO2013_CONTROL_COUNTS.get(objective, 0)
    if len(parts) == 2:
        return 1 <= int(parts[1]) <= _ISO2022_CONTROL_COUNTS.get(parts[0], 0)
    return False
