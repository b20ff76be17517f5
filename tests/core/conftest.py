from tests.spans import Spans

__all__ = ["Spans"]
