"""Detect the language of a text with langdetect, offline and deterministically."""

import threading

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory  # type: ignore[import-untyped]
from langdetect.lang_detect_exception import LangDetectException  # type: ignore[import-untyped]

UNKNOWN = "unknown"

# langdetect is unreliable on a few words, so shorter texts are UNKNOWN.
MIN_LETTERS = 20

# A best guess below this probability is UNKNOWN. Text in a language without a
# langdetect profile, such as Lorem ipsum, splits the probability between
# several near languages.
MIN_PROBABILITY = 0.90


_factory: DetectorFactory | None = None
_factory_lock = threading.Lock()


def _detector_factory() -> DetectorFactory:
    """Return the detector factory, loading the language profiles on first use.

    This replaces the shared factory of `langdetect.detect`, which a second
    thread can use before the first one has finished loading the profiles.
    """
    global _factory
    with _factory_lock:
        if _factory is None:
            factory = DetectorFactory()
            factory.load_profile(PROFILES_DIRECTORY)
            # Each detector seeds its own random.Random with this value, so the
            # result for a given text is the same in every run and every thread.
            factory.seed = 0
            _factory = factory
        return _factory


def detect_language(text: str) -> str:
    """Return the ISO 639-1 code of the language of `text`, or UNKNOWN.

    The result is UNKNOWN when `text` has fewer than MIN_LETTERS letters or when
    no language reaches MIN_PROBABILITY. langdetect reads at most the first
    10,000 characters.
    """
    if sum(character.isalpha() for character in text) < MIN_LETTERS:
        return UNKNOWN
    detector = _detector_factory().create()
    detector.append(text)
    try:
        candidates = detector.get_probabilities()
    except LangDetectException:
        return UNKNOWN
    if not candidates or candidates[0].prob < MIN_PROBABILITY:
        return UNKNOWN
    # langdetect writes Chinese as zh-cn or zh-tw; ISO 639-1 has only "zh".
    code: str = candidates[0].lang
    return code.partition("-")[0]
