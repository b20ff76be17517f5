from tests.core.conftest import Spans, spans

__all__ = ["Spans", "spans"]
