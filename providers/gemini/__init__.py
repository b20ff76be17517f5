"""Google Gemini: :mod:`.generate_content` (``google:``), :mod:`.interactions` (``google-interactions:``)
and what both share (:mod:`.common`)."""

from .generate_content import GeminiModel
from .interactions import GeminiInteractionsModel

__all__ = ["GeminiInteractionsModel", "GeminiModel"]
